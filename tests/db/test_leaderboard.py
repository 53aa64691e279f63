"""Who stands on a team leaderboard: reps, and managers only when they carry a quota."""

from salesops_core.config import OrgConfig
from salesops_core.db.models import Quota, Team
from salesops_core.kpi.engine import compute_report
from salesops_core.org.scopes import team_scope
from salesops_core.periods import parse_period
from tests.support.command_org import NOW, Q4, build_org


def _west_board(session, org):
    period = parse_period("this-quarter", tz=OrgConfig().tz, now=NOW)
    west = session.get(Team, org.manager.team_id)
    report = compute_report(session, team_scope(west), period, OrgConfig(), now=NOW)
    return [row["rep"] for row in report.leaderboard]


def test_a_manager_without_quota_is_not_on_the_leaderboard(session):
    org = build_org(session)
    assert _west_board(session, org) == ["Bob Stone", "Jane Doe"]


def test_a_player_coach_manager_with_quota_is_on_the_leaderboard(session):
    org = build_org(session)
    session.add(
        Quota(rep_id=org.manager.rep_id, period_start=Q4[0], period_end=Q4[1], amount=50_000)
    )
    session.commit()
    assert _west_board(session, org) == ["Bob Stone", "Jane Doe", "Mia Manager"]
