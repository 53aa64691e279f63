"""The slash commands' charts (/kpi, /team, /leads, /pipeline) read honestly at a glance: one y
axis, the running period marked, pace and SLA drawn in the units of the axis, value labels as
the text writes them, every text inside the figure and clear of the others."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from salesops_core import charts
from salesops_core.charts import value_label
from tests.support.figures import (
    bars_under,
    by_gid,
    drawn,
    extents,
    legend_texts,
    outside_figure,
    overlapping,
    y_axes_with_ticks,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "charts"

# What the demo org's commands chart (`salesops demo --now 2026-12-01T15:00:00`, day 62 of the
# 92 of 2026-Q4): /kpi and /pipeline as Grace Becker, /team and /leads for NA East.
QUARTERS = ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
WON = [491_300.0, 158_100.0, 279_100.0, 558_500.0, 186_900.0, 201_600.0]
DOLLARS = [458_000.0, 458_000.0, 458_000.0, 458_000.0, 458_000.0, 307_000.0]
QUOTA: list[float | None] = list(DOLLARS)


def attainment(won: list[float], quota: list[float | None]) -> list[float | None]:
    return [w / q if q else None for w, q in zip(won, quota, strict=True)]


def trend(
    labels: list[str] = QUARTERS,
    won: list[float] = WON,
    quota: list[float | None] = QUOTA,
    running: bool = True,
) -> Figure:
    return charts.kpi_trend_figure(
        labels, won, attainment(won, quota), quota=quota, running=running,
        title="Grace Becker: won vs quota, last 6 periods",
    )  # fmt: skip


REPS = ["Nora Patel", "Paul Ivanova", "Amelia Young", "Grace Becker", "Olivia Laurent",
        "Julia Müller", "Olivia Khan"]  # fmt: skip
ATTAINMENT = [1.0808, 0.8903, 1.1256, 0.6567, 0.2174, 0.2137, 0.05635]
PACE = 0.6698  # 61.6 of 92 days


def team(
    reps: list[str] = REPS, values: list[float] = ATTAINMENT, expected: float = PACE
) -> Figure:
    return charts.team_attainment_figure(
        reps, values, expected=expected,
        title="NA East: quota attainment by rep, this-quarter (2026-Q4)",
    )  # fmt: skip


EDGES = charts.log_edges(0.25, 30 * 1440.0, 5.0, steps=30)
INSIDE = [
    2,
    4,
    5,
    8,
    16,
    21,
    13,
    0,
    1,
    2,
    1,
    1,
    0,
    1,
    0,
    0,
    2,
    0,
    0,
    1,
    0,
    1,
    4,
    2,
    0,
    0,
    0,
    0,
    0,
    0,
]
LATE = [
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    20,
    12,
    13,
    11,
    8,
    3,
    8,
    5,
    7,
    5,
    3,
    2,
    4,
    5,
    1,
    1,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
]


def response(sla: float | None = 5.0, business_hours: bool = True) -> Figure:
    return charts.response_histogram_figure(
        EDGES, INSIDE, LATE, sla_minutes=sla, business_hours=business_hours, unanswered=3,
        title="NA East: time to first response, this-quarter (2026-Q4)",
    )  # fmt: skip


STAGES = ["Prospecting", "Qualification", "Discovery/Demo", "Proposal", "Negotiation"]
AMOUNTS = [136_500.0, 209_200.0, 229_500.0, 17_600.0, 172_300.0]
WEIGHTED = [14_810.0, 34_250.0, 91_800.0, 12_320.0, 135_540.0]
DEALS = [5, 5, 4, 1, 4]


def pipeline() -> Figure:
    return charts.pipeline_by_stage_figure(
        STAGES, AMOUNTS, WEIGHTED, deals=DEALS,
        title="Grace Becker: open pipeline by stage, this-quarter (2026-Q4)",
    )  # fmt: skip


LAYOUTS = {
    "trend, quarter running": lambda: trend(),
    "trend, closed quarters": lambda: trend(running=False),
    "trend, no quota in two periods": lambda: trend(quota=[None, None, *QUOTA[2:]]),
    "trend, no quota at all": lambda: trend(quota=[None] * 6),
    "trend, one period": lambda: trend(labels=["2026-Q4"], won=[201_600.0], quota=[307_000.0]),
    "trend, quota far above won": lambda: trend(quota=[2_000_000.0] * 6),
    "trend, won just under quota": lambda: trend(quota=[w * 1.02 for w in WON]),
    "trend, millions": lambda: trend(won=[w * 5 for w in WON], quota=[q * 5 for q in DOLLARS]),
    "trend, date ranges": lambda: trend(
        labels=[f"2026-0{i}-01\nto 2026-0{i}-28" for i in range(1, 7)]
    ),
    "team": lambda: team(),
    "team, reps near the lines": lambda: team(["A", "B", "C", "D"], [0.99, 0.67, 0.64, 1.01]),
    "team, quarter over": lambda: team(expected=1.0),
    "team, 40 reps": lambda: team([f"Rep {i}" for i in range(40)], [i / 25 for i in range(40)]),
    "response, business hours": lambda: response(),
    "response, clock SLA": lambda: response(business_hours=False),
    "response, SLAs differ by source": lambda: response(sla=None),
    "pipeline": pipeline,
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_each_chart_has_exactly_one_y_axis(name: str) -> None:
    figure = drawn(LAYOUTS[name]())
    assert len(figure.axes) == 1  # no twinx
    assert y_axes_with_ticks(figure) == 1


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_every_text_lies_inside_the_figure(name: str) -> None:
    assert outside_figure(drawn(LAYOUTS[name]())) == []


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_no_two_texts_overlap(name: str) -> None:
    assert overlapping(drawn(LAYOUTS[name]())) == []


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_the_legend_sits_above_the_plot_never_on_the_data(name: str) -> None:
    figure = drawn(LAYOUTS[name]())
    (axes,) = figure.axes
    legend = axes.get_legend()
    assert legend is not None
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    assert legend.get_window_extent(renderer).y0 >= axes.bbox.y1 - 1


def test_the_trend_draws_quota_as_dollars_on_the_won_axis() -> None:
    (axes,) = trend().axes
    (markers,) = by_gid(axes, "quota-marker")
    tops = sorted(round(float(segment[0][1]), 2) for segment in markers.get_segments())  # type: ignore[attr-defined]
    assert tops == sorted(DOLLARS)
    assert axes.get_ylim()[1] > max(DOLLARS)
    assert "Quota" in legend_texts(axes)


def test_periods_without_a_quota_get_no_quota_marker() -> None:
    (axes,) = trend(quota=[None, None, *QUOTA[2:]]).axes
    (markers,) = by_gid(axes, "quota-marker")
    assert len(markers.get_segments()) == 4  # type: ignore[attr-defined]


def test_a_trend_without_any_quota_says_so() -> None:
    (axes,) = trend(quota=[None] * 6).axes
    assert by_gid(axes, "quota-marker") == []
    assert axes.get_xlabel() == "No quota lies inside these periods"
    labels = [text.get_text() for text in by_gid(axes, "value-label")]  # type: ignore[attr-defined]
    assert labels == [value_label("won_amount", won) for won in WON]


def test_the_running_period_is_hatched_and_says_to_date() -> None:
    (axes,) = trend().axes
    (partial,) = by_gid(axes, "running-period")
    assert partial.get_hatch()  # type: ignore[attr-defined]
    assert axes.get_xticklabels()[-1].get_text() == "2026-Q4\nto date"
    assert "To date" in legend_texts(axes)
    (closed,) = trend(running=False).axes
    assert by_gid(closed, "running-period") == []
    assert closed.get_xticklabels()[-1].get_text() == "2026-Q4"


def test_trend_value_labels_read_as_the_text_does() -> None:
    (axes,) = trend(quota=[None, *QUOTA[1:]]).axes
    labels = [text.get_text() for text in by_gid(axes, "value-label")]  # type: ignore[attr-defined]
    shares = attainment(WON, [None, *QUOTA[1:]])
    assert labels == [
        value_label("won_amount", won)
        + ("" if share is None else f"\n{value_label('quota_attainment', share)} of quota")
        for won, share in zip(WON, shares, strict=True)
    ]
    assert labels[-1] == "$201,600\n65% of quota"


def _gap(box: Bbox, y: float) -> float:
    """Pixels between a box and a height: 0 when the height crosses the box."""
    return max(0.0, box.y0 - y, y - box.y1)


@pytest.mark.parametrize(
    "quota",
    [QUOTA, [w * 1.02 for w in WON], [w * 0.98 for w in WON], [2_000_000.0] * 6],
    ids=["the demo's", "just above the bars", "just below the bars' tops", "far above"],
)
def test_a_won_label_sits_on_its_bar_never_on_the_quota_marker(quota: list[float]) -> None:
    """Nearer its bar's top than its quota marker (above the bar, or inside it when the marker
    is in the way), over its own bar: the label never reads as the quota's."""
    won = [491_300.0, 358_100.0, 279_100.0, 558_500.0, 286_900.0, 301_600.0]  # tall enough
    figure = drawn(trend(won=won, quota=quota))
    (axes,) = figure.axes
    labels = extents(figure, by_gid(axes, "value-label"))  # type: ignore[arg-type]
    for (text, box), bar, amount, target in zip(labels, axes.patches, won, quota, strict=True):
        top, marker = (axes.transData.transform((0, y))[1] for y in (amount, target))
        assert _gap(box, top) < _gap(box, marker), text.get_text()
        assert bars_under(figure, axes, text) in ([], [bar]), text.get_text()


def test_the_demo_trend_labels_each_bar_just_above_its_top() -> None:
    figure = drawn(trend())
    (axes,) = figure.axes
    labels = extents(figure, by_gid(axes, "value-label"))  # type: ignore[arg-type]
    for (text, box), amount in zip(labels, WON, strict=True):
        top = axes.transData.transform((0, amount))[1]
        assert 0 < box.y0 - top < 10, text.get_text()  # 3 pt over its bar, not over the quota


def test_team_chart_marks_the_pace_expected_by_now() -> None:
    (axes,) = team().axes
    (line,) = by_gid(axes, "pace-line")
    assert list(line.get_xdata()) == [PACE, PACE]  # type: ignore[attr-defined]
    (label,) = by_gid(axes, "pace-label")
    assert label.get_text() == "66% expected by now"  # type: ignore[attr-defined]
    (closed,) = team(expected=1.0).axes
    assert by_gid(closed, "pace-line") == []


def test_team_chart_colours_reps_behind_pace_apart() -> None:
    (axes,) = team(["A", "B", "C"], [1.2, 0.7, 0.3]).axes
    assert len({bar.get_facecolor() for bar in axes.patches}) == 3
    assert legend_texts(axes) == ["Behind pace", "On pace", "At quota"]


def test_team_labels_agree_with_the_text_and_keep_off_the_lines() -> None:
    figure = drawn(team(["A", "B", "C", "D", "E"], [0.99, 0.67, 0.64, 1.01, 0.046]))
    (axes,) = figure.axes
    labels = by_gid(axes, "value-label")
    assert {t.get_text() for t in labels} == {"99%", "67%", "64%", "101%", "4.6%"}  # type: ignore[attr-defined]
    lines = [
        axes.transData.transform((line.get_xdata()[0], 0))[0]  # type: ignore[attr-defined]
        for gid in ("quota-line", "pace-line")
        for line in by_gid(axes, gid)
    ]
    for text, box in extents(figure, labels):  # type: ignore[arg-type]
        assert not any(box.x0 - 1 < x < box.x1 + 1 for x in lines), text.get_text()


def test_a_business_hours_sla_is_explained_not_drawn_on_the_clock_axis() -> None:
    (axes,) = response().axes
    assert by_gid(axes, "sla-line") == []
    assert "SLA counts business minutes" in axes.get_xlabel()
    assert axes.get_xlabel().startswith("Clock time to first response")
    assert "Not shown: 3 unanswered leads" in axes.get_xlabel()
    assert legend_texts(axes) == [f"Within SLA ({sum(INSIDE)})", f"Late ({sum(LATE)})"]


def test_a_clock_time_sla_is_drawn_where_it_falls_on_the_axis() -> None:
    (axes,) = response(business_hours=False).axes
    (line,) = by_gid(axes, "sla-line")
    assert list(line.get_xdata()) == [5.0, 5.0]  # type: ignore[attr-defined]
    (label,) = by_gid(axes, "sla-label")
    assert label.get_text() == "SLA 5 min"  # type: ignore[attr-defined]
    assert "business minutes" not in axes.get_xlabel()


def test_pipeline_bars_carry_their_amounts_and_deal_counts() -> None:
    (axes,) = pipeline().axes
    ticks = [label.get_text() for label in axes.get_yticklabels()]
    assert ticks[0] == "Prospecting\n5 deals" and "Proposal\n1 deal" in ticks
    labels = [text.get_text() for text in by_gid(axes, "value-label")]  # type: ignore[attr-defined]
    expected = [
        text
        for amount, weighted in zip(AMOUNTS, WEIGHTED, strict=True)
        for text in (
            value_label("open_pipeline_value", amount),
            value_label("weighted_pipeline_value", weighted),
        )
    ]
    assert labels == expected


def test_charts_without_data_say_so() -> None:
    (axes,) = charts.pipeline_by_stage_figure([], [], [], deals=[], title="p").axes
    assert [t.get_text() for t in axes.texts] == ["No open deals"]
    empty = charts.response_histogram_figure(
        EDGES, [0] * 30, [0] * 30, sla_minutes=5, business_hours=True, unanswered=2, title="r"
    )
    assert "No answered leads in this period" in [t.get_text() for t in empty.axes[0].texts]
    (nobody,) = charts.team_attainment_figure([], [], expected=0.5, title="t").axes
    assert [t.get_text() for t in nobody.texts] == ["No rep has a quota for this period"]


REFERENCES = {
    "kpi-trend.png": lambda: charts.kpi_trend(
        QUARTERS,
        WON,
        attainment(WON, QUOTA),
        quota=QUOTA,
        running=True,
        title="Grace Becker: won vs quota, last 6 periods",
    ),
    "team-attainment.png": lambda: charts.team_attainment(
        REPS,
        ATTAINMENT,
        expected=PACE,
        title="NA East: quota attainment by rep, this-quarter (2026-Q4)",
    ),
    "lead-response.png": lambda: charts.response_histogram(
        EDGES,
        INSIDE,
        LATE,
        sla_minutes=5.0,
        business_hours=True,
        unanswered=3,
        title="NA East: time to first response, this-quarter (2026-Q4)",
    ),
    "pipeline-by-stage.png": lambda: charts.pipeline_by_stage(
        STAGES,
        AMOUNTS,
        WEIGHTED,
        deals=DEALS,
        title="Grace Becker: open pipeline by stage, this-quarter (2026-Q4)",
    ),
}


@pytest.mark.parametrize("filename", list(REFERENCES))
def test_reference_renders_are_current(filename: str) -> None:
    """The PNGs in tests/fixtures/charts are for people to look at; they must show what the
    code draws (`SALESOPS_UPDATE_CHART_FIXTURES=1` rewrites them)."""
    png = REFERENCES[filename]()
    assert png[:8] == charts.PNG_SIGNATURE
    path = FIXTURES / filename
    if os.environ.get("SALESOPS_UPDATE_CHART_FIXTURES"):
        path.write_bytes(png)
    assert path.read_bytes()[16:24] == png[16:24]  # the same width and height
