"""The column-at-a-time deal converter gives exactly what the row converter gives (values,
keys, errors), for every cell shape the fast path reads and the ones it leaves to the rows."""

from __future__ import annotations

import itertools
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from salesops_core.db.models import Outcome
from salesops_core.importers import records
from salesops_core.importers.columns import convert_deals, parse_timestamps
from salesops_core.importers.csvfile import plan_columns, read_csv
from salesops_core.importers.fields import FIELDS, REQUIRED
from salesops_core.importers.formats import format_spec
from salesops_core.importers.parsing import parse_timestamp
from salesops_core.importers.stagemap import StageDef, StageMap

STAMPS = (
    "2026-03-07T14:05:00Z", "2026-03-07 14:05:00+0200", "2026-03-07T14:05:00-05:30",
    "2026-03-07T14:05:00.250Z", "2026-03-07T14:05", "2026-03-07 14:05:09", "2026-03-07",
    "2026/03/07", "3/7/2026", "03/07/2026 4:05", "3/7/2026 14:05:09", "3/7/2026 2:05 PM",
    "12/7/2026 12:05 AM", "3/7/26", "3/7/2026 13:05 PM", "2026-02-30", "2/30/2026",
    "2026-03-08 02:30", "2026-11-01 01:30", "2026-03-29 02:30", "2026-10-25 02:30",
    "2026-03-07T25:00:00Z", "2026-03-07T14:05:00+2500", "yesterday", "",
    "0001-01-01", "9999-12-31T23:59:59-05:00", "1969-12-31T23:00:00Z", "2250-06-01",
)  # fmt: skip


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Europe/Berlin"])
def test_vectorised_time_stamps_match_the_cell_parser_or_are_left_to_it(zone: str) -> None:
    tz = ZoneInfo(zone)
    values, read = parse_timestamps(list(STAMPS), tz)
    for text, value, ok in zip(STAMPS, values, read, strict=True):
        if not text:
            assert ok and value is None
        elif ok:
            assert value == parse_timestamp(text, tz)[0], text
    assert np.count_nonzero(read) >= 12  # the common shapes are read here, not per cell


BAD_AMOUNTS = ("1e309", "12abc")  # invented amounts (`1309`, `12 ABC`) before they were refused


def _deals_file(tmp_path: Path) -> Path:
    header = (
        "external_id,owner,stage,created_at,amount,currency,probability,outcome,"
        "close_date,closed_at,expected_close,forecast_category,name,is_closed,is_won"
    )
    cells = {
        "stage": ["Discovery", "Closed Won", "Mystery", ""],
        "created_at": ["2026-01-05T09:30:00Z", "1/15/2026 9:05", "01/15/26", "soon", ""],
        "amount": ["1200", "$12,500.00", "12,50", "(100)", "-5", "€3", "abc", "", *BAD_AMOUNTS],
        "currency": ["", "usd", "EURO", "XYZ"],
        "probability": ["0.4", "60", "150", ""],
        "outcome": ["", "won", "maybe"],
        "close_date": ["", "2026-03-31", "3/31/2026 5:00 PM", "never", "2250-06-01"],
        "closed_at": ["", "2026-02-14T16:00:00+01:00"],
        "is_closed": ["", "1", "0", "perhaps"],
        "is_won": ["", "1"],
        "forecast_category": ["Best Case", "", "x" * 65],
    }
    lines = [header]
    combos = itertools.product(*cells.values())
    for n, combo in enumerate(itertools.islice(combos, 0, None, 283)):
        row = dict(zip(cells, combo, strict=True))
        owner = "" if n % 97 == 5 else f"rep{n % 3}@example.com"
        ext = f"D-{n % 400 if n % 53 else 0}"
        lines.append(
            ",".join(
                [ext, owner, row["stage"], row["created_at"], f'"{row["amount"]}"',
                 row["currency"], row["probability"], row["outcome"], row["close_date"],
                 row["closed_at"], "", row["forecast_category"], f"Deal {n}",
                 row["is_closed"], row["is_won"]]
            )
        )  # fmt: skip
    path = tmp_path / "deals.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["native", "salesforce"])
def test_column_converter_gives_the_row_converters_values_and_errors(
    tmp_path: Path, fmt: str
) -> None:
    table = read_csv(_deals_file(tmp_path))
    spec = format_spec(fmt, "deals")
    plan = plan_columns(
        table, kind="deals", fields=FIELDS["deals"], required=REQUIRED["deals"],
        candidates=spec.columns, overrides={},
    )  # fmt: skip
    stages = StageMap()
    stages.add(StageDef("Discovery", 1, 0.1, Outcome.OPEN), source="file")
    stages.add(StageDef("Closed Won", 2, 1.0, Outcome.WON), source="file")
    tz = ZoneInfo("America/New_York")
    fast = convert_deals(table, plan, spec, stages, tz)
    slow = [
        records.convert_deal(records.Cells(line, raw, plan, tz), spec, stages)
        for line, raw in plan.rows(table)
    ]
    assert len(fast) == len(slow) > 3000
    for a, b in zip(fast, slow, strict=True):
        assert (a.line, a.key, a.errors) == (b.line, b.key, b.errors)
        assert list(a.values.items()) == list(b.values.items()), a.line
    assert sum(not r.errors for r in slow) > 100  # clean rows exist, so the fast path ran
