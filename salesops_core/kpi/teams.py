"""Every team's KPIs from one pass of the engine: one gather over a scope, split by team.

The engine's partial sums are per rep and additive, so one gather over the org (or a region,
or one team) holds every team's numbers: a team's KPIs are its reps' partials combined
(`engine.group_kpis`), and its leaderboard the same rows `compute_report` shows. Only the
lead-response percentiles do not add up; they come from one read grouped by team
(`queries.lead_percentiles_by_team`). A team's numbers here equal `compute_report` for the
team scope (tests/db/test_kpi_teams.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import Rep
from salesops_core.kpi import queries as q
from salesops_core.kpi.engine import (
    LeaderboardRow,
    PeriodNumbers,
    gather,
    group_kpis,
    leaderboard_rows,
)
from salesops_core.kpi.registry import KpiValues
from salesops_core.org.scopes import Scope, reps_in_scope
from salesops_core.periods import Period


@dataclass(frozen=True)
class TeamsNumbers:
    """One period's numbers for every team in a scope, from one gather."""

    gathered: PeriodNumbers
    reps: dict[int, list[Any]]  # team id -> its reps (rows of `reps_in_scope`)
    percentiles: dict[int, dict[str, float | None]]  # team id -> lead-response median, p90

    def kpis(self, team_id: int) -> KpiValues:
        """The team's KPIs (as `compute_report` gives them for the team scope)."""
        return group_kpis(
            self.reps.get(team_id, []), self.gathered, self.percentiles.get(team_id, {})
        )

    def leaderboard(self, team_id: int) -> list[LeaderboardRow]:
        """The team's leaderboard rows, best won amount first."""
        return leaderboard_rows(self.reps.get(team_id, []), self.gathered)

    def partial(self, rep_id: int, key: str) -> float:
        """One of a rep's partial sums (e.g. "quota", "sla_met"); 0 when the rep has none."""
        return float(self.gathered.partials.get(rep_id, {}).get(key) or 0)


def reps_by_team(session: Session, scope: Scope) -> dict[int, list[Any]]:
    """The scope's reps that are on a team, by team id (leaderboard rows: id, name, role...)."""
    teams: dict[int, list[Any]] = {}
    for row in session.execute(reps_in_scope(scope).add_columns(Rep.team_id).order_by(Rep.id)):
        if row.team_id is not None:
            teams.setdefault(row.team_id, []).append(row)
    return teams


def gather_teams(
    session: Session,
    scope: Scope,
    period: Period,
    org: OrgConfig,
    sla: Sequence[SlaPolicy],
    now: datetime,
    *,
    reps: dict[int, list[Any]] | None = None,
    to_date: bool = False,
) -> TeamsNumbers:
    """Every team's numbers in `scope` for the period: the engine's gather once, plus one
    grouped read of lead-response percentiles (a team scope's gather already has its own).
    `reps` (from `reps_by_team`) saves reading the reps again for another period; `to_date`
    as for `engine.gather` (a previous period to the same point: `previous_comparison`)."""
    gathered = gather(session, scope, period, org, sla, now, to_date=to_date)
    if scope.kind == "team":
        assert isinstance(scope.key, int)
        percentiles = {scope.key: gathered.percentiles}
    else:
        so_far = replace(period, end=period.effective_end(now)) if to_date else period
        percentiles = q.lead_percentiles_by_team(session, scope, so_far, now)
    return TeamsNumbers(
        gathered, reps if reps is not None else reps_by_team(session, scope), percentiles
    )
