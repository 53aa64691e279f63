"""Fuzzing the CSV import: a malformed file is refused with row errors, never a traceback.

Each generated file has the native header of its kind and rows whose cells are plausible or
hostile (invented amounts such as `10 k` or `1e309`, years 0001 and 9999, control
characters, cells longer than their column, stray quotes and columns). The import either
succeeds or raises `ImportFailed` naming a line and column for every problem in a row (a
problem with the whole file names the file), and writes nothing when it fails.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from salesops_core.importers.fields import FIELDS
from salesops_core.importers.report import ImportFailed
from tests.support.import_helpers import FIXTURES, counts, load_reps, run_import

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KINDS = ("deals", "leads", "activities", "quotas", "forecasts")
FILE_KINDS = ("reps", *KINDS)
PLAUSIBLE = {
    "external_id": st.sampled_from(["X-1", "X-2", "X-3"]),
    "owner": st.sampled_from(["ada@example.com", "Alan Turing", "nobody@example.com"]),
    "stage": st.sampled_from(["Prospecting", "Closed Won", "Closed Lost", "Haggling"]),
    "amount": st.sampled_from(["1200", "$1,200.50", "€9.500,00", "USD 1 000", "(5)"]),
    "currency": st.sampled_from(["USD", "eur", "XYZ"]),
    "probability": st.sampled_from(["0.4", "40", "40%", "140"]),
    "outcome": st.sampled_from(["open", "won", "lost", "maybe"]),
    "type": st.sampled_from(["call", "Meeting", "juggling"]),
    "minutes": st.sampled_from(["30", "1,5", "-3"]),
    "external_attendee": st.sampled_from(["yes", "0", "perhaps"]),
    "email": st.sampled_from(["ada@example.com", "new.rep@example.com", "not-an-email"]),
    "manager": st.sampled_from(["Alan Turing", "Mia Boss", "mia.boss@example.com"]),
    "role": st.sampled_from(["rep", "manager", "boss"]),
}
moments = st.sampled_from(
    ["2026-03-07", "2026-03-07T14:05:00Z", "3/7/2026 2:05 PM", "2026-04-01", "2026-03-31"]
)
HOSTILE_CELLS = [
    "10 k", "12abc", "1e309", "NaN", "inf", "-Infinity", "0001-01-01", "9999-12-31",
    "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "12/31/9999", "1/1/0001",
    "31/02/2026", "2026-13-45", "\x00", "a\x1bb", '"', "x" * 400, "", " ",
]  # fmt: skip
hostile = st.one_of(
    st.sampled_from(HOSTILE_CELLS), st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
)


def cell(name: str) -> st.SearchStrategy[str]:
    """A plausible value for the field three times in four, else a hostile one."""
    if name in PLAUSIBLE:
        plausible = PLAUSIBLE[name]
    elif name.endswith(("_at", "_start", "_end", "_close", "close_date")):
        plausible = moments
    else:
        plausible = st.sampled_from(["Acme", "Web", "Widget Pro", "best case"])
    return st.integers(0, 3).flatmap(lambda n: hostile if n == 3 else plausible)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, str]:
    """(kind, CSV text): the kind's native header, 1-4 rows, sometimes a ragged row."""
    kind = draw(st.sampled_from(FILE_KINDS))
    header = [f for f in FIELDS[kind] if f in _NATIVE[kind]]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for _ in range(draw(st.integers(1, 4))):
        row = [draw(cell(name)) for name in header]
        if draw(st.integers(0, 9)) == 0:
            row = row[: draw(st.integers(0, len(row)))] + draw(st.lists(hostile, max_size=2))
        writer.writerow(row)
    return kind, out.getvalue()


# The native columns of each kind (DESIGN.md section 3), without the formats' extra fields.
_NATIVE = {
    "reps": set(FIELDS["reps"]),
    "deals": set(FIELDS["deals"]) - {"close_date", "is_closed", "is_won"},
    "leads": set(FIELDS["leads"]) - {"responded_by"},
    "activities": set(FIELDS["activities"]) - {"duration_seconds"},
    "quotas": set(FIELDS["quotas"]),
    "forecasts": set(FIELDS["forecasts"]),
}


@pytest.fixture
def reps(sessions):
    load_reps(sessions)
    return sessions


@FUZZ
@given(generated=csv_files())
@example(("quotas", "owner,period_start,period_end,amount\nAlan Turing,0001-01-01,9999-12-31,5\n"))
def test_a_fuzzed_file_imports_or_fails_with_row_errors_and_writes_nothing(
    reps, tmp_path_factory, generated
):
    kind, text = generated
    path = tmp_path_factory.mktemp("fuzz") / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    before = counts(reps)
    try:
        run_import(
            reps,
            path,
            kind,
            stage_map_file=FIXTURES / "stage_map.csv",
            create_missing=kind == "reps",  # managers named only in the manager column
        )
    except ImportFailed as failed:
        assert failed.errors, text
        messages = [str(error) for error in failed.errors]
        assert all(error.column for error in failed.errors if (error.line or 0) > 1), messages
        assert counts(reps) == before


@FUZZ
@given(kind=st.sampled_from(KINDS), data=st.binary(max_size=200))
def test_a_file_of_random_bytes_is_refused_with_a_reason_not_a_traceback(
    reps, tmp_path_factory, kind, data
):
    path = tmp_path_factory.mktemp("bytes") / f"{kind}.csv"
    path.write_bytes(data)
    before = counts(reps)
    with pytest.raises(ImportFailed) as failed:
        run_import(reps, path, kind)
    assert all(str(error) for error in failed.value.errors)
    assert counts(reps) == before
