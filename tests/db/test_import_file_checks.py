"""`salesops import` through the real CLI: files that are no CSV, misspelled and ignored
columns, and the stage_changes kind (exit codes and exactly what the user reads)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot.cli.main import app
from salesops_core.db.models import Deal, DealStageChange
from tests.support.import_helpers import FIXTURES, SALESFORCE, counts, fixture_text
from tests.unit.test_import_sniffing import OLE, PNG, workbook

STAGE_MAP = str(FIXTURES / "stage_map.csv")


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run `salesops ...` in tmp_path against the test database; (exit code, output)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SALESOPS_CONFIG", raising=False)
    env = {"DATABASE_URL": database_url, "SALESOPS_TIMEZONE": "UTC", "COLUMNS": "200"}

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, list(args), env=env)
        return result.exit_code, result.output

    return run


def amounts(sessions: sessionmaker[Session]) -> list[float | None]:
    with sessions() as session:
        return list(session.scalars(select(Deal.amount).order_by(Deal.external_id)))


def test_a_misspelled_column_is_an_error_with_did_you_mean_and_nothing_is_written(
    cli, sessions: sessionmaker[Session], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    cli("import", str(FIXTURES / "reps.csv"), "--kind", "reps")
    path = tmp_path / "deals.csv"
    path.write_text(fixture_text("deals.csv").replace(",amount,", ",ammount,", 1))
    code, out = cli("import", str(path), "--kind", "deals", "--stage-map", STAGE_MAP)
    assert (code, out) == (
        1,
        "error: import failed, nothing was written: 1 error(s):\n"
        "  deals.csv line 1: column `ammount` is not a deals field; did you mean `amount`? "
        "(rename it or pass --map amount=ammount)\n",
    )
    assert amounts(sessions) == []
    code, out = cli(
        "import", str(path), "--kind", "deals", "--stage-map", STAGE_MAP, "--map", "amount=ammount"
    )
    assert code == 0, out
    assert amounts(sessions) == [12500.0, 4000.0, 1250.5, 800.0]


def test_a_misspelled_required_column_is_named_once_with_the_field_it_misses(
    cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "deals.csv"
    path.write_text(fixture_text("deals.csv").replace(",owner,", ",Ownr,", 1))
    code, out = cli("import", str(path), "--kind", "deals", "--stage-map", STAGE_MAP)
    assert (code, out.splitlines()[1:]) == (
        1,
        [
            "  deals.csv line 1: column `Ownr` is not a deals field; did you mean `owner`? "
            "(rename it or pass --map owner=Ownr)"
        ],
    )


def test_a_near_miss_in_a_salesforce_export_names_the_salesforce_column(
    cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "OpportunityHistory.csv"
    path.write_text(fixture_text("OpportunityHistory.csv").replace(",Probability,", ",Probabilty,"))
    code, out = cli("import", str(path), "--kind", "stage_changes", "--format", "salesforce")
    assert (code, out.splitlines()[1:]) == (
        1,
        [
            "  OpportunityHistory.csv line 1: column `Probabilty` is not a stage_changes field; "
            "did you mean `Probability`? (rename it or pass --map probability=Probabilty)"
        ],
    )


def test_columns_no_field_reads_are_listed_once_and_are_not_errors(
    cli, sessions: sessionmaker[Session], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    reps = fixture_text("reps.csv").splitlines()
    (tmp_path / "reps.csv").write_text(
        "\n".join([reps[0] + ",Nickname", *(line + ",x" for line in reps[1:])]) + "\n"
    )
    code, out = cli("import", str(tmp_path / "reps.csv"), "--kind", "reps")
    assert (code, out.splitlines()[-1]) == (0, "note: ignored column `Nickname` (not a reps field)")
    path = tmp_path / "deals.csv"
    text = fixture_text("deals.csv").splitlines()
    path.write_text("\n".join([text[0] + ",Foo", *(line + ",x" for line in text[1:])]) + "\n")
    code, out = cli("import", str(path), "--kind", "deals", "--stage-map", STAGE_MAP)
    assert code == 0
    assert out.splitlines()[1:] == ["note: ignored column `Foo` (not a deals field)"]
    args = ("import", str(SALESFORCE / "Opportunity.csv"), "--kind", "deals")
    code, out = cli(*args, "--format", "salesforce", "--owners", str(FIXTURES / "sf_owners.csv"))
    assert code == 0
    assert out.splitlines()[-1] == (
        "note: ignored 22 columns (not deals fields): `IsDeleted`, `Description`, `Type`, "
        "`NextStep`, `LeadSource`, `ForecastCategory` and 16 more"
    )


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("orders.xlsx", workbook(), "orders.xlsx is an Excel workbook, not CSV: in Excel use "
         "File > Save As > CSV UTF-8"),
        ("orders.xls", OLE, "orders.xls is an Excel 97-2003 workbook (or another Office file), "
         "not CSV: in Excel use File > Save As > CSV UTF-8"),
        ("chart.png", PNG, "chart.png is a PNG image, not CSV: export it as CSV (UTF-8, with a "
         "header row) and import that"),
        ("report.pdf", b"%PDF-1.4\n", "report.pdf is a PDF document, not CSV: export it as CSV "
         "(UTF-8, with a header row) and import that"),
        ("deals.json", b'[{"external_id": "D-1"}]', "deals.json is JSON, not CSV: convert it to "
         "CSV with a header row (or send the records to the ingest API: POST /api/v1/deals, "
         "/leads or /activities)"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_csv_gets_one_line_saying_what_it_is_and_exit_1(
    cli, tmp_path: Path, name: str, data: bytes, message: str
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(data)
    assert cli("import", str(path), "--kind", "deals") == (1, f"error: {message}\n")


def test_stage_changes_through_the_cli_are_in_help_recorded_and_rerun_unchanged(
    cli, sessions: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    code, out = cli("import", "--help")
    assert code == 0
    assert "reps|deals|leads|activities|quotas|forecasts|stage_changes" in "".join(out.split())
    cli("import", str(FIXTURES / "reps.csv"), "--kind", "reps")
    owners = ("--owners", str(FIXTURES / "sf_owners.csv"))
    code, _ = cli(
        "import", str(SALESFORCE / "Opportunity.csv"), "--kind", "deals", "--format", "salesforce",
        *owners,
    )  # fmt: skip
    assert code == 0
    args = ("import", str(FIXTURES / "OpportunityHistory.csv"), "--kind", "stage_changes")
    code, out = cli(*args, "--format", "salesforce")
    assert (code, out.splitlines()) == (
        0,
        [
            "stage_changes: 3 stage change(s) recorded, 3 updated, 0 unchanged; 1 stage(s) "
            "saved to the stage map",
            "note: stages not in the stage map (no order or default probability): Discovery, "
            "Negotiation; add them with --stage-map",
            "note: ignored 9 columns (not stage_changes fields): `Id`, `CreatedById`, "
            "`ExpectedRevenue`, `CloseDate`, `ForecastCategory`, `SystemModstamp` and 3 more",
        ],
    )
    before = counts(sessions)
    code, out = cli(*args, "--format", "salesforce")
    assert (code, out.splitlines()[0]) == (
        0,
        "stage_changes: 0 stage change(s) recorded, 0 updated, 6 unchanged",
    )
    assert counts(sessions) == before
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(DealStageChange)) == 53
