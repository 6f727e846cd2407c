"""The `koers` command as CONTRACT.md fixes it: exit codes, one-line errors, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXPORT_KEYS, koers


@pytest.fixture
def home(tmp_path: Path) -> Path:
    result = koers(
        tmp_path,
        "coach",
        "add",
        "--email",
        "c@koers.test",
        "--name",
        "Cas",
        "--password-stdin",
        stdin="a very long password\n",
    )
    assert result.returncode == 0, result.stderr
    return tmp_path


def test_employee_add_prints_id_and_invite_code(home: Path) -> None:
    result = koers(
        home,
        "employee",
        "add",
        "--coach",
        "c@koers.test",
        "--name",
        "Ed",
        "--language",
        "en",
        "--first-sick-day",
        "2026-02-01",
        "--trajectory",
        "intensive",
        "--weekly-target",
        "4",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"id", "invite_code"}
    assert isinstance(data["id"], int) and len(data["invite_code"]) == 10
    exported = json.loads(koers(home, "employee", "export", str(data["id"]), "--json").stdout)
    assert exported["profile"]["trajectory"] == "intensive"
    assert exported["profile"]["weekly_target"] == 4
    assert exported["profile"]["language"] == "en"
    assert set(exported) >= EXPORT_KEYS


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            [
                "employee",
                "add",
                "--coach",
                "x@koers.test",
                "--name",
                "E",
                "--first-sick-day",
                "2026-01-01",
            ],
            "unknown coach",
        ),
        (
            [
                "employee",
                "add",
                "--coach",
                "c@koers.test",
                "--name",
                "E",
                "--first-sick-day",
                "2026-02-30",
            ],
            "not a date",
        ),
        (
            [
                "employee",
                "add",
                "--coach",
                "c@koers.test",
                "--name",
                "E",
                "--language",
                "xx",
                "--first-sick-day",
                "2026-01-01",
            ],
            "unsupported language",
        ),
        (["employee", "export", "999", "--json"], "unknown employee"),
        (["employee", "export", "abc", "--json"], "not an employee id"),
        (["employee", "forget", "999"], "unknown employee"),
        (["nlu-eval", "/no/such/file.tsv"], "no such file"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_errors_are_one_line_and_non_zero(home: Path, args: list[str], fragment: str) -> None:
    result = koers(home, *args)
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]


def test_coach_add_refuses_a_password_on_the_command_line(home: Path) -> None:
    result = koers(home, "coach", "add", "--email", "d@koers.test", "--name", "D")
    assert result.returncode != 0
    assert "--password-stdin" in result.stderr


def test_forget_then_export_fails(home: Path) -> None:
    added = koers(
        home,
        "employee",
        "add",
        "--coach",
        "c@koers.test",
        "--name",
        "Ed",
        "--first-sick-day",
        "2026-02-01",
        "--json",
    )
    employee = json.loads(added.stdout)["id"]
    assert koers(home, "employee", "forget", str(employee)).returncode == 0
    assert koers(home, "employee", "export", str(employee), "--json").returncode == 1


def test_help_lists_the_commands(home: Path) -> None:
    result = koers(home, "--help")
    assert result.returncode == 0
    for command in ("coach", "employee", "nlu-eval", "run"):
        assert command in result.stdout
