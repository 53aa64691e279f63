"""Charts: valid PNGs of a readable size from the Figure API; commands attach them on demand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from commands.base import run_command
from salesops_core import charts
from tests.support.command_org import Org, build_org, context
from tests.support.figures import png_size

ROOT = Path(__file__).resolve().parents[2]


def assert_preview_sized(png: bytes) -> None:
    width, height = png_size(png)
    assert 800 <= width <= 1000  # 8 in at 110 dpi
    assert 400 <= height <= 4000
    assert png.rstrip().endswith(b"IEND\xaeB`\x82")


def test_kpi_trend_is_a_png_with_gaps_for_periods_without_quota() -> None:
    png = charts.kpi_trend(
        ["Q1", "Q2", "Q3"], [1_000.0, 0.0, 2_500_000.0], [0.5, None, 1.4],
        quota=[2_000.0, None, 1_785_714.0], title="trend",
    )  # fmt: skip
    assert_preview_sized(png)


def test_pipeline_chart_is_a_png_even_without_deals() -> None:
    assert_preview_sized(
        charts.pipeline_by_stage(["A", "B"], [10.0, 20.0], [1.0, 10.0], deals=[1, 2], title="p")
    )
    assert_preview_sized(charts.pipeline_by_stage([], [], [], deals=[], title="empty"))


def test_response_histogram_is_a_png_with_and_without_sla() -> None:
    edges = charts.log_edges(0.25, 3600, 5.0)
    inside = [1 if i < 8 else 0 for i in range(len(edges) - 1)]
    late = [0 if i < 8 else 2 for i in range(len(edges) - 1)]
    assert_preview_sized(
        charts.response_histogram(
            edges, inside, late, sla_minutes=5, business_hours=True, unanswered=2, title="r"
        )
    )
    assert_preview_sized(
        charts.response_histogram(
            edges, inside, late, sla_minutes=None, business_hours=False, unanswered=0, title="r"
        )
    )


def test_team_chart_grows_with_the_number_of_reps() -> None:
    small = charts.team_attainment(["a", "b"], [0.5, 1.2], expected=0.5, title="t")
    large = charts.team_attainment([f"rep {i}" for i in range(60)], [i / 40 for i in range(60)],
                                   expected=0.5, title="t")  # fmt: skip
    assert png_size(large)[1] > 2 * png_size(small)[1]


def test_log_bins_put_an_edge_exactly_on_the_sla() -> None:
    edges = charts.log_edges(0.5, 3000, 5.0)
    assert 5.0 in edges and edges == sorted(edges)


@pytest.mark.parametrize(
    ("line", "filename"),
    [
        ("/kpi", "kpi-trend.png"),
        ("/pipeline", "pipeline-by-stage.png"),
        ("/leads", "lead-response.png"),
    ],
)
def test_commands_attach_charts_only_when_asked(session: Session, line: str, filename: str) -> None:
    org: Org = build_org(session)
    with_charts = run_command(session, org.jane, line, "", context(charts=True))
    assert [c.filename for c in with_charts.charts] == [filename]
    assert_preview_sized(with_charts.charts[0].png)
    assert with_charts.charts[0].title.startswith("Jane Doe: ")
    assert run_command(session, org.jane, line, "", context(charts=False)).charts == []


def test_team_command_attaches_the_attainment_chart(session: Session) -> None:
    org = build_org(session)
    reply = run_command(session, org.manager, "/team", "", context(charts=True))
    assert [c.filename for c in reply.charts] == ["team-attainment.png"]
    png_size(reply.charts[0].png)


def test_no_server_code_uses_pyplot() -> None:
    pattern = re.compile(r"^\s*(import matplotlib\.pyplot|from matplotlib import pyplot)", re.M)
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("salesops_core", "commands", "bot")
        for path in (ROOT / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_lead_histogram_is_binned_in_sql_by_own_sla(session: Session) -> None:
    from commands.leads import response_histogram_counts
    from salesops_core.org.scopes import Scope
    from salesops_core.periods import parse_period

    org = build_org(session)
    ctx = context()
    period = parse_period("this-quarter", tz=ctx.org.tz, now=ctx.now)
    edges, inside, late = response_histogram_counts(
        session, Scope("rep", org.jane.rep_id, "Jane"), period, ctx
    )
    assert 5.0 in edges  # the SLA target is a bin edge
    (met_bin,) = [i for i, n in enumerate(inside) if n]
    (late_bin,) = [i for i, n in enumerate(late) if n]
    assert edges[met_bin] <= 3 < edges[met_bin + 1]  # answered in 3 min, within its SLA
    assert edges[late_bin] <= 20 < edges[late_bin + 1]  # answered in 20 min, late
    assert (sum(inside), sum(late)) == (1, 1)  # the unanswered lead is not binned
