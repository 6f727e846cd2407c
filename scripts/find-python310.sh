#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 needs <3.11): PATH, pyenv, then uv.
set -euo pipefail
for candidate in "${KOERS_PYTHON310:-}" python3.10; do
  if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then
    path=$(command -v "$candidate")
    if "$path" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      echo "$path"; exit 0
    fi
  fi
done
if command -v pyenv >/dev/null 2>&1; then
  for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.|$)' | sort -rV); do
    prefix=$(pyenv prefix "$version" 2>/dev/null || true)
    if [ -x "$prefix/bin/python3.10" ]; then echo "$prefix/bin/python3.10"; exit 0; fi
  done
fi
if command -v uv >/dev/null 2>&1; then
  found=$(uv python find 3.10 2>/dev/null || true)
  if [ -n "$found" ]; then echo "$found"; exit 0; fi
fi
echo "no Python 3.10 found: install it (pyenv install 3.10.13, or uv python install 3.10)" >&2
exit 1
