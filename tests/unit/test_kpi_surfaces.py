"""Every KPI reads the same in `salesops kpi`, in a Slack field and on a chart."""

from __future__ import annotations

from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from rich.text import Text

from bot.cli.kpi import kpi_rows, print_report
from commands.kit.common import metric
from salesops_core import charts
from salesops_core.kpi.engine import KpiReport
from salesops_core.kpi.registry import KPI_KEYS, KPIS, KpiValues, Unit
from salesops_core.org.scopes import ORG_SCOPE
from salesops_core.periods import Period

UTC = ZoneInfo("UTC")
Q3 = Period(
    datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC), "2026-Q3", "quarter"
)

# (current, previous) pairs per unit: undefined, zero, small, large, negative where it can be.
SAMPLES: dict[Unit, list[tuple[float | int | None, float | int | None]]] = {
    Unit.MONEY: [(None, 10), (0, 0), (45_300, 37_750), (1_234_567, 45_300), (-2_500, 1_000)],
    Unit.MONEY_PER_DAY: [(1_234, None), (0, 0), (1_234.4, 1_028.7), (2.5e6, 2e6), (5_000, 0)],
    Unit.PERCENT: [(None, None), (0, 0.2), (0.045, 0.045), (0.873, 0.673), (-0.25, 0.5)],
    Unit.COUNT: [(None, 3), (0, 0), (3, 2), (12_345, 12_000), (1, 1)],
    Unit.DAYS: [(None, 1), (0, 0), (1, 4.46), (23.4, 10), (4.46, 4.46)],
    Unit.MINUTES: [(None, 4), (0, 0), (4, 100), (100, 60), (4_320, 2_880)],
    Unit.RATIO: [(None, 1), (0, 0), (2.345, 2), (12, 3), (0.4, 0.9)],
    Unit.NUMBER: [(None, 0.5), (0, 0), (0.03, 0.02), (2.5, 3), (12.25, 12.25)],
}
CASES = range(len(SAMPLES[Unit.MONEY]))


def report(case: int) -> KpiReport:
    """A report whose every KPI holds its unit's `case`-th sample."""
    now = {k.key: SAMPLES[k.unit][case][0] for k in KPIS}
    before = {k.key: SAMPLES[k.unit][case][1] for k in KPIS}
    return KpiReport(ORG_SCOPE, Q3, cast(KpiValues, now), cast(KpiValues, before))


def slack_field(key: str, values: KpiValues, previous: KpiValues) -> tuple[str, str]:
    """The value and change lines of the Slack field (its first line is the label)."""
    lines = metric(key, values, previous, "").split("\n")
    return lines[1], lines[2].strip("_")


@pytest.mark.parametrize("case", CASES)
def test_every_kpi_reads_the_same_in_the_cli_in_slack_and_on_a_chart(case: int) -> None:
    data = report(case)
    for kpi, (label, value, previous, change) in zip(KPIS, kpi_rows(data), strict=True):
        now, before = SAMPLES[kpi.unit][case]
        slack_value, slack_change = slack_field(kpi.key, data.kpis, data.previous)
        assert metric(kpi.key, data.kpis, None, "").startswith(f"*{label}*\n")
        assert value == slack_value == charts.value_label(kpi.key, now), kpi.key
        assert previous == charts.value_label(kpi.key, before), kpi.key
        assert Text.from_markup(change).plain == slack_change, kpi.key


@pytest.mark.parametrize(
    ("key", "value", "text"),
    [
        ("won_amount", 45_300, "$45,300"),
        ("won_amount", 2_500_000, "$2.5M"),
        ("lead_response_minutes_median", 100, "1.7 h"),
        ("lead_response_minutes_p90", 4_320, "3 d"),
        ("win_rate", 0.873, "87%"),
        ("pipeline_velocity_per_day", 1_234.4, "$1,234 / day"),
        ("pipeline_coverage", 2.345, "2.3x"),
        ("avg_sales_cycle_days", 23.4, "23 days"),
        ("leads_unanswered", 12_345, "12,345"),
        ("meetings_per_rep_per_week", 2.5, "2.5"),
        ("forecast_accuracy", None, "—"),
    ],
)
def test_a_kpi_value_reads_as_people_write_it(key: str, value: float | None, text: str) -> None:
    data = KpiReport(ORG_SCOPE, Q3, cast(KpiValues, {key: value}), cast(KpiValues, {key: None}))
    assert slack_field(key, data.kpis, data.previous)[0] == charts.value_label(key, value) == text


def test_a_change_reads_the_same_in_the_cli_and_in_slack() -> None:
    values = {k: 0.0 for k in KPI_KEYS} | {"won_amount": 54_360.0, "win_rate": 0.5}
    previous = {k: 0.0 for k in KPI_KEYS} | {"won_amount": 45_300.0, "win_rate": 0.3}
    data = KpiReport(ORG_SCOPE, Q3, cast(KpiValues, values), cast(KpiValues, previous))
    changes = {label: Text.from_markup(change).plain for label, _, _, change in kpi_rows(data)}
    assert (changes["Won"], changes["Win rate"]) == ("▲ 20%", "▲ 20 pts")
    assert slack_field("won_amount", data.kpis, data.previous)[1] == "▲ 20%"


def test_the_cli_table_prints_the_rows_and_names_the_comparison() -> None:
    out = Console(record=True, width=160)
    data = report(3)
    print_report(data, out)
    text = out.export_text()
    assert "change vs last quarter" in text
    assert "$1.2M" in text and "87%" in text and "1.7 h" in text and "$2.5M / day" in text
