"""Adds or updates message ids in every catalog from a YAML file (a developer tool).

    .venv/bin/python scripts/add_messages.py messages.yml

The file maps message ids to one translation per language::

    cv.heading.skills:
      nl: Vaardigheden
      en: Skills

Every language that has a catalog must be given; the ids keep their order of
appearance, and existing translations are replaced. Compile with ``make i18n``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from babel.messages.pofile import read_po, write_po

LOCALES = Path(__file__).resolve().parent.parent / "locales"


def main(path: str) -> int:
    messages: dict[str, dict[str, str]] = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    for po_path in sorted(LOCALES.glob("*/LC_MESSAGES/koers.po")):
        lang = po_path.parent.parent.name
        with po_path.open("rb") as f:
            catalog = read_po(f, locale=lang)
        for key, translations in messages.items():
            if lang not in translations:
                print(f"{path}: {key} has no {lang} translation", file=sys.stderr)
                return 1
            catalog.add(key, str(translations[lang]))
        with po_path.open("wb") as f:
            write_po(f, catalog, width=0, omit_header=False)
        text = po_path.read_text(encoding="utf-8").replace("#, fuzzy\n", "", 1)
        po_path.write_text(text, encoding="utf-8")
    print(f"{len(messages)} message ids in {len(list(LOCALES.glob('*/LC_MESSAGES/koers.po')))} catalogs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
