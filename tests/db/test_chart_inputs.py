"""Every command's chart is plain data bound to a chart function, so a chart process can draw it.

`bot.chart_pool` pickles `Chart.render` to another process: an ORM object, a session or a
lambda in it would fail there (or draw stale data), so each command's render must survive a
pickle round trip unchanged.
"""

from __future__ import annotations

import pickle
from functools import partial

import pytest
from sqlalchemy.orm import Session

from commands.base import run_command
from salesops_core import charts
from tests.support.command_org import build_org, context


@pytest.mark.parametrize(
    ("command", "text", "as_manager", "draws_with"),
    [
        ("/kpi", "", False, charts.kpi_trend),
        ("/pipeline", "", False, charts.pipeline_by_stage),
        ("/leads", "", False, charts.response_histogram),
        ("/team", "", True, charts.team_attainment),
        ("/team", "digest", True, charts.digest_chart),
    ],
)
def test_each_commands_chart_pickles_to_the_same_call_of_a_chart_function(
    session: Session, command: str, text: str, as_manager: bool, draws_with: object
) -> None:
    org = build_org(session)
    viewer = org.manager if as_manager else org.jane
    (chart,) = run_command(session, viewer, command, text, context(charts=True)).charts
    render = chart.render
    assert isinstance(render, partial) and render.func is draws_with
    copy = pickle.loads(pickle.dumps(render))
    assert (copy.func, copy.args, copy.keywords) == (render.func, render.args, render.keywords)
