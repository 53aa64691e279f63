"""Bad files in every format: the exact error (file, line, column, reason), nothing written."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.importers.report import ImportFailed
from tests.support.import_helpers import (
    FIXTURES,
    SALESFORCE,
    counts,
    fixture_text,
    load_reps,
    run_import,
    write,
)

DATE_HELP = "use ISO (2026-03-07 or 2026-03-07T14:05:00Z) or US style (3/7/2026 2:05 PM)"
RESAVE = 're-save it as UTF-8 (in Excel: "CSV UTF-8 (Comma delimited)") and import again'
LATIN1 = (
    "not UTF-8 (byte 0xe9 cannot be decoded); the file looks like Latin-1/Windows-1252. "
    'Re-save it as UTF-8 (in Excel: "CSV UTF-8 (Comma delimited)") and import again'
)
UNKNOWN_STAGE = (
    "unknown stage {!r}: it is in no stage map and has no outcome; give an outcome (open, won "
    "or lost) or add the stage with `salesops import FILE --kind deals --stage-map stages.csv` "
    "(columns stage,order,probability,outcome)"
)
SF_OWNERS = FIXTURES / "sf_owners.csv"
NATIVE = {"stage_map_file": FIXTURES / "stage_map.csv"}
SF = {"format": "salesforce", "owners_file": SF_OWNERS}
HS = {"format": "hubspot"}


def drop_column(name: str) -> Callable[[str], str]:
    """A mutation removing one column from a CSV text."""

    def mutate(text: str) -> str:
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
        at = rows[0].index(name)
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([r[:at] + r[at + 1 :] for r in rows])
        return out.getvalue()

    return mutate


def replace(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    """A mutation replacing the first `count` occurrences of a text."""
    return lambda text: text.replace(old, new, count)


def header_only(text: str) -> str:
    return text.split("\n", 1)[0] + "\n"


OPP = "Opportunity.csv"
CASES: list[tuple[str, str, Callable[[str], str], dict[str, Any], str]] = [
    # native
    ("native-bad-date", "deals.csv", replace("2026-01-10,,2026", "2026-13-45,,2026"), NATIVE,
     f"deals.csv line 3, column created_at: not a date: '2026-13-45'; {DATE_HELP}"),
    ("native-negative-amount", "deals.csv", replace('"$12,500.00"', "-500"), NATIVE,
     "deals.csv line 2, column amount: negative amount -500; amounts must be 0 or more"),
    ("native-unknown-stage", "deals.csv",
     lambda t: t.replace("Discovery,0.1,", "Demo Done,0.1,").replace(",open,", ",,"),
     NATIVE, "deals.csv line 5, column stage: " + UNKNOWN_STAGE.format("Demo Done")),
    ("native-duplicate-id", "deals.csv", replace("\nD-3,", "\nD-1,"), NATIVE,
     "deals.csv line 4, column external_id: duplicate external_id 'D-1', also on line 2"),
    ("native-unknown-owner", "deals.csv", replace("Alan Turing,4000", "Zed Unknown,4000"), NATIVE,
     "deals.csv line 3, column owner: unknown owner 'Zed Unknown'; import reps first, or pass "
     "--create-missing to create the rep"),
    # salesforce (the real export, with an owners file)
    ("sf-bad-date", OPP, replace("2024-01-22T16:14:25.000+0000", "2024-02-30T16:14:25.000+0000"),
     SF, f"{OPP} line 2, column CreatedDate: not a date: '2024-02-30T16:14:25.000+0000'; "
     f"{DATE_HELP}"),
    ("sf-negative-amount", OPP, replace(",1124741.15,", ",-1124741.15,"), SF,
     f"{OPP} line 2, column Amount: negative amount -1124741.15; amounts must be 0 or more"),
    ("sf-unknown-stage-without-isclosed", OPP,
     lambda t: drop_column("IsWon")(drop_column("IsClosed")(t)), SF,
     f"{OPP} line 5, column StageName: " + UNKNOWN_STAGE.format("Negotiation")),
    ("sf-duplicate-id", OPP, replace("006Ec00000AieKGIAZ", "006Ec00000AieKFIAZ"), SF,
     f"{OPP} line 3, column Id: duplicate external_id '006Ec00000AieKFIAZ', also on line 2"),
    ("sf-unknown-owner", OPP, lambda t: t, {"format": "salesforce"},
     f"{OPP} line 2, column OwnerId: unknown owner '005Ec000004oBPNIA2'; map Salesforce user "
     "ids to reps with --owners FILE (columns crm_user_id,email or crm_user_id,name) or --map "
     "owner=<column>, or pass --create-missing to create the rep"),
    # hubspot
    ("hs-bad-date", "hubspot_deals.csv", replace("2026-01-20 09:12", "2026-01-32 09:12"), HS,
     f"hubspot_deals.csv line 2, column Create Date: not a date: '2026-01-32 09:12'; {DATE_HELP}"),
    ("hs-negative-amount", "hubspot_deals.csv", replace(",25000,", ",-25000,"), HS,
     "hubspot_deals.csv line 2, column Amount: negative amount -25000; amounts must be 0 or more"),
    ("hs-unknown-stage", "hubspot_deals.csv", replace("Contract Sent", "Verbal Yes"), HS,
     "hubspot_deals.csv line 2, column Deal Stage: " + UNKNOWN_STAGE.format("Verbal Yes")),
    ("hs-duplicate-id", "hubspot_deals.csv", replace("\n9002,", "\n9001,"), HS,
     "hubspot_deals.csv line 3, column Record ID: duplicate external_id '9001', also on line 2"),
    ("hs-unknown-owner", "hubspot_deals.csv", replace("Ada Lovelace", "Nobody Here"), HS,
     "hubspot_deals.csv line 2, column Deal owner: unknown owner 'Nobody Here'; import reps "
     "first, or pass --create-missing to create the rep"),
]  # fmt: skip


def source_text(name: str) -> str:
    return (SALESFORCE / name).read_text("utf-8") if name == OPP else fixture_text(name)


def assert_nothing_written(
    sessions: sessionmaker[Session], path: Path, options: dict[str, Any]
) -> list[str]:
    """Import, expect ImportFailed, check no row changed; the error lines."""
    before = counts(sessions)
    with pytest.raises(ImportFailed) as failed:
        run_import(sessions, path, "deals", **options)
    assert counts(sessions) == before
    return [str(error) for error in failed.value.errors]


@pytest.mark.parametrize(
    ("name", "mutate", "options", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_row_is_reported_with_file_line_column_and_nothing_is_written(
    sessions: sessionmaker[Session],
    tmp_path: Path,
    name: str,
    mutate: Callable[[str], str],
    options: dict[str, Any],
    expected: str,
) -> None:
    load_reps(sessions)
    path = write(tmp_path, name, mutate(source_text(name)))
    errors = assert_nothing_written(sessions, path, options)
    assert errors[0] == expected


@pytest.mark.parametrize(
    ("name", "options", "dropped", "label"),
    [
        ("deals.csv", NATIVE, "owner", "'owner'"),
        (OPP, SF, "StageName", "'StageName' or 'stage'"),
        (
            "hubspot_deals.csv",
            HS,
            "Deal owner",
            "'Deal owner' or 'Deal Owner' or 'HubSpot Owner' or 'owner'",
        ),
    ],
)
def test_missing_required_column_is_one_error_naming_it_and_the_columns_found(
    sessions: sessionmaker[Session],
    tmp_path: Path,
    name: str,
    options: dict[str, Any],
    dropped: str,
    label: str,
) -> None:
    load_reps(sessions)
    text = drop_column(dropped)(source_text(name))
    found = ", ".join(next(csv.reader(io.StringIO(text))))
    field = "stage" if dropped == "StageName" else "owner"
    errors = assert_nothing_written(sessions, write(tmp_path, name, text), options)
    assert errors == [
        f"{name} line 1, column {field}: missing required column {label} for --kind deals; "
        f"found: {found}. Map another column with --map {field}=<column>"
    ]


@pytest.mark.parametrize(
    ("name", "options"), [("deals.csv", NATIVE), (OPP, SF), ("hubspot_deals.csv", HS)]
)
def test_wrong_encoding_empty_file_and_header_only_are_clear_errors(
    sessions: sessionmaker[Session], tmp_path: Path, name: str, options: dict[str, Any]
) -> None:
    load_reps(sessions)
    text = source_text(name).lstrip("\ufeff")
    lines = text.split("\n")
    lines[2] = lines[2].replace(",", ",Café ", 1)
    latin1 = write(tmp_path, name, "\n".join(lines), encoding="latin-1")
    assert assert_nothing_written(sessions, latin1, options) == [f"{name} line 3: {LATIN1}"]
    utf16 = write(tmp_path, name, text, encoding="utf-16")
    assert assert_nothing_written(sessions, utf16, options) == [
        f"{name}: the file is UTF-16 encoded; {RESAVE}"
    ]
    empty = write(tmp_path, name, "")
    assert assert_nothing_written(sessions, empty, options) == [
        f"{name}: the file is empty; expected a header row"
    ]
    header = write(tmp_path, name, header_only(text))
    assert assert_nothing_written(sessions, header, options) == [
        f"{name} line 1: no data rows: the file has a header row and nothing else"
    ]


def test_all_bad_rows_are_listed_not_only_the_first(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    load_reps(sessions)
    text = replace("ada@example.com", "ghost@example.com")(fixture_text("deals.csv"))
    text = replace("2026-01-10,,2026", "soon,,2026")(text)
    errors = assert_nothing_written(sessions, write(tmp_path, "deals.csv", text), NATIVE)
    ghost = (
        "unknown owner 'ghost@example.com'; import reps first, or pass --create-missing "
        "to create the rep"
    )
    assert errors == [
        f"deals.csv line 2, column owner: {ghost}",
        f"deals.csv line 3, column created_at: not a date: 'soon'; {DATE_HELP}",
    ]
    with pytest.raises(ImportFailed) as failed:
        run_import(sessions, write(tmp_path, "deals.csv", text), "deals", **NATIVE)
    assert str(failed.value).startswith(
        "import failed, nothing was written: 2 error(s) in 2 of 4 rows:\n"
    )


def test_skip_invalid_imports_good_rows_and_returns_rejected_ones_with_reasons(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    from salesops_core.importers.report import rejected_path, write_rejected

    load_reps(sessions)
    text = replace("\nD-3,", "\nD-1,")(fixture_text("deals.csv"))
    path = write(tmp_path, "deals.csv", text)
    result = run_import(sessions, path, "deals", skip_invalid=True, **NATIVE)
    assert (result.created, len(result.rejected)) == (3, 1)
    out = write_rejected(result, rejected_path(path, writable_dir=True))
    assert out == tmp_path / "deals.rejected.csv"
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["external_id"], r["name"], r["line"], r["reason"]) for r in rows] == [
        ("D-1", "Initech upsell", "4", "external_id: duplicate external_id 'D-1', also on line 2"),
    ]
