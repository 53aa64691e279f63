"""The digest's composite chart: one PNG of two to four panels, labels that never collide.

The structural checks run on the laid-out Figure (`_digest_figure`) with the renderer that
draws it, so they measure what the PNG shows.
"""

from __future__ import annotations

import os
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from salesops_core.charts import ChartError, _digest_figure, digest_chart, value_label
from salesops_core.digest.facts import ChartFacts, StageBar
from tests.support.figures import (
    bars_under,
    by_gid,
    drawn,
    extents,
    legend_texts,
    outside_figure,
    overlapping,
    png_size,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "charts"
# As salesops_core.digest.content bins them, with a 5-minute SLA target.
EDGES = [0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 240.0, 480.0, 1440.0, 2880.0, 10080.0]
FIRST = ["Olivia", "Paul", "Ines", "Grace", "Hannah", "Felix", "Ethan", "Sara", "Tariq", "Aisha"]
LAST = ["Smith", "Fernandes", "Hall", "Costa", "Silva", "Kim", "Dubois", "Andersen", "Ivanova"]
LONG_NAME = "Maximiliana Featherstonehaugh-Smythe"


def facts(reps: int = 8, seed: int = 1, **changes: Any) -> ChartFacts:
    """A realistic team: reps from 0% to ~140% of quota (one without a quota), five stages,
    140 leads around a 5-minute SLA, six weeks of won deals."""
    rng = random.Random(seed)
    names = [f"{FIRST[i % 10]} {LAST[(i * 7 + i // 10) % 9]}" for i in range(reps)]
    if reps > 3:
        names[2] = LONG_NAME
    attainment: list[tuple[str, float | None]] = sorted(
        ((name, round(max(0.0, rng.gauss(0.7, 0.35)), 3)) for name in names),
        key=lambda pair: -(pair[1] or 0),
    )
    if reps > 5:
        attainment[-1] = (attainment[-1][0], None)
    within, late = [0] * (len(EDGES) - 1), [0] * (len(EDGES) - 1)
    for _ in range(140):
        minutes = rng.lognormvariate(1.6, 1.6)
        index = min(len(within) - 1, sum(1 for edge in EDGES[1:-1] if minutes >= edge))
        counts = within if minutes <= 5 or rng.random() < 0.25 else late
        counts[index] += 1
    weeks = ["W41", "W42", "W43", "W44", "W45", "W46", "W47"]
    won = [398_000.0, 412_000.0, 288_500.0, 530_250.0, 361_000.0, 604_800.0, 455_100.0]
    base = ChartFacts(
        team="NA East",
        period="last-week (2026-W47)",
        expected_attainment=0.66,
        attainment=attainment,
        stages=[
            StageBar("Prospecting", 1_850_000, 185_000, 41),
            StageBar("Qualification", 1_240_000, 248_000, 27),
            StageBar("Discovery/Demo", 960_000, 384_000, 18),
            StageBar("Proposal", 610_000, 366_000, 9),
            StageBar("Negotiation", 385_000, 308_000, 5),
        ],
        response_edges=EDGES,
        response_within=within,
        response_late=late,
        sla_minutes=5.0,
        won_trend=list(zip(weeks[1:], won[1:], strict=True)),
        won_previous=list(zip(weeks[:-1], won[:-1], strict=True)),
        unanswered=3,
    )
    return replace(base, **changes)


NOTHING: dict[str, Any] = {
    "attainment": [],
    "stages": [],
    "response_within": [0] * (len(EDGES) - 1),
    "response_late": [0] * (len(EDGES) - 1),
    "won_trend": [],
    "won_previous": [],
}


def titles(figure: Figure) -> list[str]:
    return [axes.get_title(loc="left") for axes in figure.axes]


def panel(figure: Figure, title: str) -> Axes:
    return next(axes for axes in figure.axes if axes.get_title(loc="left") == title)


ATTAINMENT = "Quota attainment, quarter to date"
PIPELINE = "Open pipeline by stage"
RESPONSE = "Lead response"
TREND = "Won, vs the period before"
LAYOUTS = {
    "8 reps": facts(8),
    "30 reps, week running": facts(30, seed=3, trend_running=True),
    "1 rep": facts(1, seed=2),
    "early in the quarter": facts(12, seed=5, expected_attainment=0.08, sla_minutes=None),
    "clock-time SLA": facts(8, sla_business_hours=False),
    "one rep far above quota": facts(
        6, attainment=[("Ava", 2.4), ("Ben", 0.98), ("Cy", 0.64), ("Di", 0.0)]
    ),
    "pipeline and trend only": facts(
        0, response_within=NOTHING["response_within"], response_late=NOTHING["response_late"]
    ),
    "year-week labels, week running": facts(
        8,
        won_trend=[(f"2026-W{w}", 100_000.0 * (w - 40)) for w in range(43, 49)],
        won_previous=[(f"2026-W{w}", 100_000.0 * (w - 41)) for w in range(43, 49)],
        trend_running=True,
    ),
    "weeks with nothing won": facts(
        8,
        won_trend=[("W42", 412_000.0), ("W43", 0.0), ("W44", 530_250.0), ("W45", 0.0)],
        won_previous=[("W41", 398_000.0), ("W42", 412_000.0), ("W43", 0.0), ("W44", 530_250.0)],
    ),
    "a small last week": facts(
        8,
        won_trend=[("W45", 122_600.0), ("W46", 196_700.0), ("W47", 180_400.0), ("W48", 56_200.0)],
        won_previous=[
            ("W44", 109_400.0),
            ("W45", 122_600.0),
            ("W46", 196_700.0),
            ("W47", 180_400.0),
        ],
    ),
    "nothing": facts(0, **NOTHING),
}


def test_the_digest_chart_is_one_png_sized_for_slacks_preview() -> None:
    png = digest_chart(facts(8))
    width, height = png_size(png)
    assert width == 1100  # 10 in at 110 dpi
    assert 500 <= height <= 1000
    assert png.rstrip().endswith(b"IEND\xaeB`\x82")


def test_four_panels_with_data_each_with_a_single_y_axis() -> None:
    figure = _digest_figure(facts(8))
    assert sorted(titles(figure)) == sorted([ATTAINMENT, PIPELINE, RESPONSE, TREND])
    assert len(figure.axes) == 4  # no twin axes
    assert not any(axes.child_axes for axes in figure.axes)


def test_thirty_reps_make_a_taller_chart_naming_every_rep() -> None:
    eight, thirty = digest_chart(facts(8)), digest_chart(facts(30, seed=3))
    assert png_size(thirty)[1] > png_size(eight)[1] + 150
    figure = _digest_figure(facts(30, seed=3))
    names = [label.get_text() for label in panel(figure, ATTAINMENT).get_yticklabels()]
    assert len(names) == 29  # the rep without a quota is left out, and said to be
    assert panel(figure, ATTAINMENT).get_xlabel() == "Not shown: 1 rep without a quota"


def test_long_names_are_shortened_with_an_ellipsis_and_short_ones_are_not() -> None:
    figure = _digest_figure(facts(8))
    names = [label.get_text() for label in panel(figure, ATTAINMENT).get_yticklabels()]
    assert "Maximiliana Featherst…" in names
    assert all(name.endswith("…") == name.startswith("Maximiliana") for name in names)


def test_a_period_with_nothing_to_draw_says_so_instead_of_a_blank_image() -> None:
    figure = _digest_figure(facts(0, **NOTHING))
    assert len(figure.axes) == 1
    assert "No activity this period" in [text.get_text() for text in figure.axes[0].texts]
    assert png_size(digest_chart(facts(0, **NOTHING)))[0] == 1100


def test_panels_without_data_are_left_out() -> None:
    figure = _digest_figure(LAYOUTS["pipeline and trend only"])
    assert sorted(titles(figure)) == [PIPELINE, TREND]
    only_reps = facts(4, stages=[], won_trend=[], won_previous=[], **{
        k: v for k, v in NOTHING.items() if k.startswith("response")
    })  # fmt: skip
    assert titles(_digest_figure(only_reps)) == [ATTAINMENT]
    no_quota = facts(4, attainment=[("Ann", None), ("Bo", None)])
    assert ATTAINMENT not in titles(_digest_figure(no_quota))


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_every_text_lies_inside_the_figure(name: str) -> None:
    assert outside_figure(drawn(_digest_figure(LAYOUTS[name]))) == []


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_no_two_texts_overlap(name: str) -> None:
    assert overlapping(drawn(_digest_figure(LAYOUTS[name]))) == []


@pytest.mark.parametrize("name", [n for n in LAYOUTS if n != "nothing"])
def test_legends_sit_above_the_plot_never_on_the_data(name: str) -> None:
    figure = drawn(_digest_figure(LAYOUTS[name]))
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    for axes in figure.axes:
        legend = axes.get_legend()
        assert legend is not None
        assert legend.get_window_extent(renderer).y0 >= axes.bbox.y1 - 1
        assert legend.get_window_extent(renderer).y1 <= axes.title.get_window_extent(renderer).y0


def test_the_pace_line_stands_at_the_share_of_the_quarter_elapsed_and_says_so() -> None:
    axes = panel(_digest_figure(facts(8)), ATTAINMENT)
    (pace,) = by_gid(axes, "pace-line")
    assert list(pace.get_xdata()) == [0.66, 0.66]  # type: ignore[attr-defined]
    (label,) = by_gid(axes, "pace-label")
    assert label.get_text() == "66% expected by now"  # type: ignore[attr-defined]
    assert len(by_gid(axes, "quota-line")) == 1


def test_once_the_quarter_is_over_only_the_100_percent_line_is_drawn() -> None:
    axes = panel(_digest_figure(facts(8, expected_attainment=1.0)), ATTAINMENT)
    assert by_gid(axes, "pace-line") == []
    assert legend_texts(axes)[0] == "Below quota"


def test_reps_behind_pace_are_coloured_apart_from_those_on_pace_and_at_quota() -> None:
    chart = facts(3, attainment=[("A", 1.2), ("B", 0.7), ("C", 0.3)])
    axes = panel(_digest_figure(chart), ATTAINMENT)
    colours = [bar.get_facecolor() for bar in axes.patches]
    assert len(set(colours)) == 3
    assert legend_texts(axes) == ["Behind pace", "On pace", "At quota"]


@pytest.mark.parametrize("name", ["8 reps", "30 reps, week running", "one rep far above quota"])
def test_attainment_labels_never_sit_on_the_100_percent_or_the_pace_line(name: str) -> None:
    figure = drawn(_digest_figure(LAYOUTS[name]))
    axes = panel(figure, ATTAINMENT)
    lines = [
        axes.transData.transform((line.get_xdata()[0], 0))[0]  # type: ignore[attr-defined]
        for gid in ("quota-line", "pace-line")
        for line in by_gid(axes, gid)
    ]
    labels = by_gid(axes, "value-label")
    assert len(labels) == len([a for _, a in LAYOUTS[name].attainment if a is not None])
    for text, box in extents(figure, labels):  # type: ignore[arg-type]
        assert box.x1 <= axes.bbox.x1
        assert not any(box.x0 - 1 < x < box.x1 + 1 for x in lines), text.get_text()


def test_value_labels_read_exactly_as_the_text_of_the_digest() -> None:
    figure = _digest_figure(facts(8))
    attainment = {t.get_text() for t in by_gid(panel(figure, ATTAINMENT), "value-label")}  # type: ignore[attr-defined]
    expected = {value_label("quota_attainment", a) for _, a in facts(8).attainment if a is not None}
    assert attainment == expected
    pipeline = [t.get_text() for t in by_gid(panel(figure, PIPELINE), "value-label")]  # type: ignore[attr-defined]
    assert pipeline[:2] == ["$1.9M", "$185,000"]
    trend = [t.get_text() for t in by_gid(panel(figure, TREND), "value-label")]  # type: ignore[attr-defined]
    assert trend == [value_label("won_amount", w) for _, w in facts(8).won_trend]


def test_pipeline_shows_deal_counts_and_keeps_the_axis_from_zero() -> None:
    axes = panel(_digest_figure(facts(8)), PIPELINE)
    assert axes.get_yticklabels()[0].get_text() == "Prospecting\n41 deals"
    assert axes.get_xlim()[0] == 0


def test_the_sla_line_is_drawn_only_for_a_clock_time_sla_a_business_hours_one_is_said() -> None:
    axes = panel(_digest_figure(facts(8)), RESPONSE)
    assert by_gid(axes, "sla-line") == []  # business minutes are not the axis' clock minutes
    assert "SLA counts business minutes (5 min)" in axes.get_xlabel()
    assert axes.get_xscale() == "log"
    assert axes.get_xlabel().startswith("Clock time to first response")
    assert "Not shown: 3 unanswered leads" in axes.get_xlabel()
    wall_clock = panel(_digest_figure(facts(8, sla_business_hours=False)), RESPONSE)
    (line,) = by_gid(wall_clock, "sla-line")
    assert list(line.get_xdata()) == [5.0, 5.0]  # type: ignore[attr-defined]
    assert by_gid(wall_clock, "sla-label")[0].get_text() == "SLA 5 min"  # type: ignore[attr-defined]
    assert by_gid(panel(_digest_figure(facts(8, sla_minutes=None)), RESPONSE), "sla-line") == []


def test_the_sla_label_clears_the_bars_it_passes_over() -> None:
    chart = facts(8, sla_business_hours=False)
    figure = drawn(_digest_figure(chart))
    axes = panel(figure, RESPONSE)
    (label,) = by_gid(axes, "sla-label")
    ((_, box),) = extents(figure, [label])  # type: ignore[list-item]
    edges, x = chart.response_edges, lambda minutes: axes.transData.transform((minutes, 0))[0]
    under = [
        within + late
        for left, right, within, late in zip(
            edges, edges[1:], chart.response_within, chart.response_late, strict=False
        )
        if x(left) < box.x1 and box.x0 < x(right)
    ]
    assert under  # the label does pass over bars here
    assert box.y0 >= axes.transData.transform((1, max(under)))[1]


def _gap(box: Bbox, y: float) -> float:
    """Pixels between a box and a height: 0 when the height crosses the box."""
    return max(0.0, box.y0 - y, y - box.y1)


@pytest.mark.parametrize(
    "name",
    ["8 reps", "weeks with nothing won", "a small last week", "year-week labels, week running"],
)
def test_a_won_label_sits_over_its_own_bar_never_over_the_period_before(name: str) -> None:
    """Each label (a $0 one too) lies clear of every bar but its own, centred on or right of
    its own bar, and nearer its bar's top than the top of the period before's bar when over
    that one: there it would read as that bar's amount."""
    figure = drawn(_digest_figure(LAYOUTS[name]))
    axes = panel(figure, TREND)
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    count = len(LAYOUTS[name].won_trend)
    before, won = axes.patches[:count], axes.patches[count:]
    labels = extents(figure, by_gid(axes, "value-label"))  # type: ignore[arg-type]
    for (text, box), grey, bar in zip(labels, before, won, strict=True):
        assert bars_under(figure, axes, text) in ([], [bar]), text.get_text()
        own, other = (patch.get_window_extent(renderer) for patch in (bar, grey))
        assert (box.x0 + box.x1) / 2 >= own.x0, text.get_text()
        if box.x0 < other.x1:
            assert _gap(box, own.y1) < _gap(box, other.y1), text.get_text()


def test_long_period_labels_go_on_two_lines_rather_than_overlap() -> None:
    axes = panel(_digest_figure(LAYOUTS["year-week labels, week running"]), TREND)
    labels = [label.get_text() for label in axes.get_xticklabels()]
    assert labels[0] == "2026\nW43"
    assert labels[-1] == "2026\nW48\nto date"


def test_a_running_period_is_hatched_and_says_to_date() -> None:
    axes = panel(_digest_figure(facts(8, trend_running=True)), TREND)
    (partial,) = by_gid(axes, "running-period")
    assert partial.get_hatch()  # type: ignore[attr-defined]
    assert axes.get_xticklabels()[-1].get_text() == "W47\nto date"
    assert "To date" in legend_texts(axes)
    finished = panel(_digest_figure(facts(8)), TREND)
    assert by_gid(finished, "running-period") == []
    assert finished.get_xticklabels()[-1].get_text() == "W47"


def test_facts_that_do_not_add_up_raise_a_chart_error() -> None:
    with pytest.raises(ChartError, match="NA East"):
        digest_chart(facts(8, response_late=[1, 2]))
    with pytest.raises(ChartError):
        digest_chart(facts(8, won_previous=[("W46", 1.0)]))


def test_a_matplotlib_failure_is_raised_as_a_chart_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Agg ran out of memory")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(ChartError, match="Agg ran out of memory"):
        digest_chart(facts(8))


REFERENCES = {
    "digest-8-reps.png": facts(8),
    "digest-30-reps.png": replace(
        LAYOUTS["year-week labels, week running"], attainment=facts(30, seed=3).attainment
    ),
    "digest-no-activity.png": facts(0, **NOTHING),
}


@pytest.mark.parametrize("filename", list(REFERENCES))
def test_reference_renders_are_current(filename: str) -> None:
    """The PNGs in tests/fixtures/charts are for people to look at; they must show what the
    code draws (`SALESOPS_UPDATE_CHART_FIXTURES=1` rewrites them)."""
    png = digest_chart(REFERENCES[filename])
    path = FIXTURES / filename
    if os.environ.get("SALESOPS_UPDATE_CHART_FIXTURES"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
    assert png_size(path.read_bytes()) == png_size(png)


def test_facts_without_any_response_bins_just_leave_the_panel_out() -> None:
    chart = facts(8, response_edges=[], response_within=[], response_late=[])
    assert RESPONSE not in titles(_digest_figure(chart))
