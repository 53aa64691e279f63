"""A DATABASE_URL that cannot work is one line from every command, and a read command run
where there is no database says so instead of creating an empty salesops.db."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.cli.main import main
from salesops_core.errors import DatabaseUnavailable

# Each command that opens the database, with the arguments it needs to get that far.
COMMANDS = {
    "kpi": ["kpi"],
    "explain": ["explain", "win_rate"],
    "ask": ["ask", "/kpi", "--as", "ann@acme.test"],
    "leads": ["leads"],
    "outbox": ["outbox"],
    "digest": ["digest", "--team", "NA East", "--format", "json"],
    "nudges": ["nudges", "--dry-run"],
    "import": ["import", "{csv}", "--kind", "reps"],
    "serve": ["serve"],
    "socket": ["socket"],
    "scheduler": ["scheduler"],
    "migrate": ["migrate"],
    "demo": ["demo", "--scale", "0.02"],
}
READ_COMMANDS = ("kpi", "explain", "ask", "leads", "outbox", "digest", "nudges", "import")

# A bad URL, what the line shows of it, and what the line must not show.
BAD_URLS = {
    "unreachable": (
        "postgresql+psycopg://u:secret@127.0.0.1:1/x",
        "postgresql+psycopg://u:***@127.0.0.1:1/x",
    ),
    "not a url": ("foo", "'foo' is not a database URL"),
    "unknown dialect": ("mysqlx://a/b", "mysqlx"),
    "missing directory": ("sqlite:////nope/dir/x.db", "/nope/dir does not exist"),
}


def salesops(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Run the console script's entry point in-process: exit code, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["salesops", *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    out, err = capsys.readouterr()
    code = stopped.value.code
    return (code if isinstance(code, int) else 1), out, err


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder without salesops.toml, SALESOPS_CONFIG or DATABASE_URL."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "SALESOPS_CONFIG", "SLACK_BOT_TOKEN", "SALESOPS_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "reps.csv").write_text("external_id,name,email\nr1,Ann Lee,ann@acme.test\n")
    return tmp_path


def _args(command: str, folder: Path) -> list[str]:
    return [arg.replace("{csv}", str(folder / "reps.csv")) for arg in COMMANDS[command]]


@pytest.mark.parametrize("case", BAD_URLS)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_database_url_is_one_line_naming_it_without_the_password(
    command: str,
    case: str,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, shown = BAD_URLS[case]
    monkeypatch.setenv("DATABASE_URL", url)
    code, out, err = salesops(_args(command, folder), monkeypatch, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1
    assert out == ""
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert shown in lines[0] and "DATABASE_URL" in lines[0]
    assert "secret" not in err


@pytest.mark.parametrize("case", BAD_URLS)
def test_doctor_reports_a_bad_database_url_in_its_database_line(
    case: str, folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url, shown = BAD_URLS[case]
    monkeypatch.setenv("DATABASE_URL", url)
    code, out, err = salesops(["doctor"], monkeypatch, capsys)
    database = [line for line in out.splitlines() if "database:" in line]
    assert code == 1
    assert err == ""
    assert len(database) == 1 and database[0].startswith("FAIL database: ")
    assert shown in database[0]
    assert "secret" not in out and "Traceback" not in out


def test_with_debug_the_error_comes_with_its_traceback(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "foo")
    monkeypatch.setattr(sys, "argv", ["salesops", "--debug", "kpi"])
    with pytest.raises(DatabaseUnavailable, match="'foo' is not a database URL"):
        main()


@pytest.mark.parametrize("command", [*READ_COMMANDS, "doctor"])
def test_a_read_command_without_a_database_file_says_where_and_creates_nothing(
    command: str,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["doctor"] if command == "doctor" else _args(command, folder)
    code, out, err = salesops(args, monkeypatch, capsys)
    said = out + err
    assert code == 1
    assert str(folder / "salesops.db") in said
    assert "salesops demo" in said and "salesops migrate" in said and "DATABASE_URL" in said
    assert "Traceback" not in said
    assert not (folder / "salesops.db").exists()


@pytest.mark.parametrize("command", ["migrate", "demo"])
def test_migrate_and_demo_say_they_created_the_database_file(
    command: str,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = salesops(_args(command, folder), monkeypatch, capsys)
    assert code == 0
    assert f"Created salesops.db in {folder}" in out
    assert (folder / "salesops.db").is_file()
    code, out, _ = salesops(["migrate"], monkeypatch, capsys)  # it exists now: nothing created
    assert code == 0 and "Created" not in out
