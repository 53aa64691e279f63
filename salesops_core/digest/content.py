"""What a team's digest says: its period's numbers from the KPI engine, as `TeamDigest` facts.

Every team is computed from one pass of the engine (`kpi.teams`): one gather for each of the
period, the period before and the quarter to date over the scope holding the teams (the org
for `--all`, the team itself for one team), and one grouped read per chart panel, stale-deal
list and forecast. A team's `kpis` and `previous` are `compute_report`'s for the team scope.

Definitions made here (and only here):
- quarter to date: the fiscal quarter the period ends in (so far), from its start to now;
  pace is attainment QTD against the share of that quarter elapsed (`kpi.pace`).
- the leaderboard: the team's reps on the leaderboard of the period or of the quarter, best
  won in the period first; attainment and pace are quarter to date.
- slowest responders: reps with SLA breaches in the period, most breaches first, then the
  slowest median (a rep with no answered lead counts as slowest).
- movers: the team's percentage KPI that moved most (in points) vs the previous period, then
  the reps whose won amount changed most.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.config import NudgeConfig, OrgConfig, SlaPolicy
from salesops_core.db.models import Rep, Team
from salesops_core.digest.facts import (
    ChartFacts,
    ForecastFacts,
    Mover,
    PeriodFacts,
    Recipient,
    RepLine,
    Responder,
    SlaFacts,
    StageBar,
    StaleDeal,
    TeamDigest,
)
from salesops_core.digest.stale import stale_deals_per_team
from salesops_core.digest.words import inner_label, period_title
from salesops_core.kpi.details import pipeline_by_stage_per_team
from salesops_core.kpi.engine import finite_values, previous_comparison
from salesops_core.kpi.pace import elapsed_share, pace_of
from salesops_core.kpi.registry import CONVERSION_PARTS, KPIS, Unit
from salesops_core.kpi.teams import TeamsNumbers, gather_teams, reps_by_team
from salesops_core.kpi.views import (
    TREND_PERIODS,
    latest_forecast_per_rep,
    recent_periods,
    response_counts_by_bin_per_team,
    won_per_period_per_team,
)
from salesops_core.nudges.facts import Nudge
from salesops_core.nudges.service import held_for_digest
from salesops_core.org.scopes import ORG_SCOPE, Scope, team_scope
from salesops_core.org.views import rep_label, team_managers
from salesops_core.periods import Period, quarter_containing

SLOWEST_SHOWN = 3
REP_MOVERS = 2
# Minutes to first response, bin edges of the chart (the first and last bins open-ended); the
# SLA target is added as an edge so no bar mixes leads answered in time and late.
RESPONSE_EDGES = (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 240, 480, 1440, 2880, 10080)


def digest_quarter(period: Period, now: datetime, fiscal_start: int) -> Period:
    """The fiscal quarter the period ends in (so far: for a running period, the one of now)."""
    tz = period.start.tzinfo
    assert isinstance(tz, ZoneInfo)
    last_moment = period.effective_end(now) - timedelta(microseconds=1)
    return quarter_containing(last_moment.astimezone(tz).date(), tz, fiscal_start)


@dataclass(frozen=True)
class ResponseBins:
    """The lead-response histogram's bins and the SLA target line it is read against."""

    edges: list[float]  # minutes; the first and last bins are open-ended
    sla_minutes: float | None  # the target, when every policy has the same one
    business_hours: bool  # the target counts business minutes (every policy does)


def response_bins(sla: Sequence[SlaPolicy]) -> ResponseBins:
    """`RESPONSE_EDGES` plus the SLA target as an edge, when every policy has the same."""
    targets = {policy.first_response_minutes for policy in sla}
    target = targets.pop() if len(targets) == 1 else None
    edges = {float(edge) for edge in RESPONSE_EDGES} | ({target} if target is not None else set())
    return ResponseBins(sorted(edges), target, all(policy.business_hours for policy in sla))


def build_team_digest(
    session: Session,
    team: Team,
    period: Period,
    org: OrgConfig,
    sla: Sequence[SlaPolicy],
    now: datetime,
) -> TeamDigest:
    """One team's digest for the period, as it stands at `now` (the team scope's numbers)."""
    return build_digests(session, period, org, sla, now, teams=[team])[0]


def build_digests(
    session: Session,
    period: Period,
    org: OrgConfig,
    sla: Sequence[SlaPolicy],
    now: datetime,
    teams: Sequence[Team] | None = None,
    nudges: NudgeConfig | None = None,
) -> list[TeamDigest]:
    """The digests of `teams` (default: every team, by name) from one pass of the engine.

    A recipient's time zone is the manager's stored zone, else the org's; the scheduler may
    replace `recipient.timezone` with what Slack knows (`dataclasses.replace`). With `nudges`
    (the `[nudges]` settings), each recipient's own nudges that the daily budget holds back
    are folded in, from one evaluation for all recipients (`nudges.service.held_for_digest`).
    """
    if teams is None:
        teams = session.scalars(select(Team).order_by(Team.name)).all()
    if not teams:
        return []
    scope = team_scope(teams[0]) if len(teams) == 1 else ORG_SCOPE
    managers = team_managers(session, [team.id for team in teams])
    recipients = [manager.id for manager in managers.values()]
    held = held_for_digest(session, nudges, org, recipients, now) if nudges is not None else {}
    one_pass = read_once(session, scope, period, org, sla, now, managers=managers, held=held)
    return [one_pass.digest(team) for team in teams]


def read_once(
    session: Session,
    scope: Scope,
    period: Period,
    org: OrgConfig,
    sla: Sequence[SlaPolicy],
    now: datetime,
    *,
    managers: dict[int, Rep],
    held: dict[int, list[Nudge]],
    team_panels: bool = True,
) -> OnePass:
    """The one pass over `scope` every team digest in it is picked from (and a region's or
    the org's digest, `digest.regions`): three gathers, then one grouped read per part.
    `team_panels=False` skips the per-team chart panels (a scope digest reads its own)."""
    quarter = digest_quarter(period, now, org.fiscal_year_start_month)
    before = previous_comparison(period, now)  # as /kpi: to the same point while it runs
    previous = replace(before.period, end=before.at) if before.to_date else before.period
    reps = reps_by_team(session, scope)
    bins = response_bins(sla)
    trend = recent_periods(period, TREND_PERIODS + 1)
    stages: dict[int, list[dict[str, Any]]] = {}
    responses: dict[int, tuple[list[int], list[int]]] = {}
    won: dict[int, list[float]] = {}
    if team_panels:
        stages = pipeline_by_stage_per_team(session, scope, org, at=now)
        responses = response_counts_by_bin_per_team(session, scope, period, now, bins.edges)
        won = won_per_period_per_team(session, scope, trend)
    return OnePass(
        now=now,
        org=org,
        periods=(PeriodFacts.of(period, now), PeriodFacts.of(previous, now)),
        quarter=PeriodFacts.of(quarter, now),
        expected=elapsed_share(quarter, now),
        current=gather_teams(session, scope, period, org, sla, now, reps=reps),
        before=gather_teams(
            session, scope, before.period, org, sla, before.at, reps=reps, to_date=before.to_date
        ),
        qtd=gather_teams(session, scope, quarter, org, sla, now, reps=reps),
        forecasts=latest_forecast_per_rep(session, scope, quarter, now),
        stages=stages,
        bins=bins,
        responses=responses,
        trend_labels=[short_label(p) for p in trend],
        won=won,
        stale=stale_deals_per_team(session, scope, org, now),
        managers=managers,
        held=held,
    )


def short_label(period: Period) -> str:
    """ "2026-W47" of "last-week (2026-W47)"; other labels as they are (`words.inner_label`)."""
    return inner_label(period)


@dataclass(frozen=True)
class OnePass:
    """Everything read once for all teams; `digest` picks one team's facts out of it."""

    now: datetime
    org: OrgConfig
    periods: tuple[PeriodFacts, PeriodFacts]  # the period, the one before
    quarter: PeriodFacts
    expected: float  # share of the quarter elapsed: attainment on pace by now
    current: TeamsNumbers
    before: TeamsNumbers
    qtd: TeamsNumbers
    forecasts: dict[int, float]  # rep id -> forecast for the quarter, as submitted by now
    stages: dict[int, list[dict[str, Any]]]
    bins: ResponseBins
    responses: dict[int, tuple[list[int], list[int]]]
    trend_labels: list[str]  # oldest first; the last is the digest period
    won: dict[int, list[float]]  # team id -> won per trend period
    stale: dict[int, list[StaleDeal]]
    managers: dict[int, Rep]
    held: dict[int, list[Nudge]]  # manager id -> their nudges the daily budget holds back

    def digest(self, team: Team) -> TeamDigest:
        kpis = finite_values(self.current.kpis(team.id))
        previous = finite_values(self.before.kpis(team.id))
        qtd = finite_values(self.qtd.kpis(team.id))
        leaderboard = self._leaderboard(team.id)
        behind = behind_first(leaderboard)
        empty = [0] * (len(self.bins.edges) - 1)
        sla = self._sla(team.id)
        chart = self.chart(
            team.name,
            leaderboard,
            self.stages.get(team.id, []),
            self.responses.get(team.id, (empty, empty)),
            self.won.get(team.id, [0.0] * len(self.trend_labels)),
            sla.unanswered,
        )
        return TeamDigest(
            team_id=team.id,
            team=team.name,
            region=team.region,
            recipient=self._recipient(team.id),
            period=self.periods[0],
            previous_period=self.periods[1],
            quarter=self.quarter,
            computed_at=self.now,
            kpis=kpis,
            previous=previous,
            quarter_to_date=qtd,
            leaderboard=leaderboard,
            behind_pace=behind,
            sla=sla,
            forecast=self._forecast(team.id, qtd),
            stale_deals=self.stale.get(team.id, []),
            movers=biggest_movers(team.name, kpis, previous, self._won_changes(team.id)),
            chart=chart,
            held_nudges=self._held(team.id),
        )

    def chart(
        self,
        name: str,
        leaderboard: Sequence[RepLine],
        stages: Sequence[Mapping[str, Any]],
        responses: tuple[list[int], list[int]],
        won: Sequence[float],
        unanswered: int,
    ) -> ChartFacts:
        """The chart's facts: attainment per leaderboard line, open pipeline by stage (rows of
        `pipeline_by_stage`), response counts per bin (within, late), won per trend period."""
        within, late = responses
        return ChartFacts(
            team=name,
            period=period_title(self.periods[0]),
            expected_attainment=self.expected,
            attainment=sorted(
                ((line.name, line.quota_attainment) for line in leaderboard),
                key=lambda pair: (pair[1] is None, -(pair[1] or 0), pair[0]),
            ),
            stages=[
                StageBar(s["stage"], s["amount"], s["weighted_amount"], s["count"]) for s in stages
            ],
            response_edges=list(self.bins.edges),
            response_within=within,
            response_late=late,
            sla_minutes=self.bins.sla_minutes,
            won_trend=list(zip(self.trend_labels[1:], won[1:], strict=True)),
            won_previous=list(zip(self.trend_labels[:-1], won[:-1], strict=True)),
            sla_business_hours=self.bins.business_hours,
            unanswered=unanswered,
            trend_running=self.periods[0].running,
        )

    def _leaderboard(self, team_id: int) -> list[RepLine]:
        """Reps on the period's or the quarter's leaderboard (a player-coach with a quarterly
        quota is on the quarter's only), best won in the period first."""
        period_rows = {row["rep_id"]: row for row in self.current.leaderboard(team_id)}
        qtd_rows = {row["rep_id"]: row for row in self.qtd.leaderboard(team_id)}
        lines = []
        for rep_id in period_rows.keys() | qtd_rows.keys():
            row: Mapping[str, Any] = period_rows.get(rep_id) or {}
            quarter: Mapping[str, Any] = qtd_rows.get(rep_id) or {}
            quota = self.qtd.partial(rep_id, "quota") or None
            pace = pace_of(quarter, self.expected, quota)
            lines.append(
                RepLine(
                    rep_id=rep_id,
                    name=rep_label((row or quarter)["rep"], (row or quarter)["active"]),
                    won_amount=float(row.get("won_amount") or 0),
                    quota_attainment=finite(quarter.get("quota_attainment")),
                    win_rate=finite(row.get("win_rate")),
                    meetings_per_week=finite(row.get("meetings_per_rep_per_week")),
                    lead_response_minutes_median=finite(row.get("lead_response_minutes_median")),
                    behind_pace=pace.behind,
                    pace_gap=pace.shortfall if pace.behind is not None else None,
                )
            )
        return sorted(lines, key=lambda line: (-line.won_amount, line.name))

    def _sla(self, team_id: int) -> SlaFacts:
        numbers = self.current
        reps = numbers.reps.get(team_id, [])

        def total(key: str, rep_ids: Sequence[int]) -> int:
            return int(sum(numbers.partial(rep_id, key) for rep_id in rep_ids))

        ids = [rep.id for rep in reps]
        met, decided = total("sla_met", ids), total("sla_decided", ids)
        slowest = []
        for rep in reps:
            breaches = total("sla_decided", [rep.id]) - total("sla_met", [rep.id])
            if breaches > 0:
                median = numbers.gathered.owner_percentiles.get(rep.id, {}).get("median")
                slowest.append(Responder(rep.id, rep.name, finite(median), breaches))
        return SlaFacts(
            leads=total("leads", ids),
            met=met,
            breached=decided - met,
            unanswered=total("leads_unanswered", ids),
            slowest=slowest_first(slowest)[:SLOWEST_SHOWN],
        )

    def _forecast(self, team_id: int, qtd: Mapping[str, Any]) -> ForecastFacts:
        """As `kpi.views.forecast_vs_won` for the team and quarter: the weighted pipeline is
        the same partial, open deals expected to close in the quarter (None once it ended)."""
        ids = [rep.id for rep in self.qtd.reps.get(team_id, [])]
        submitted = [self.forecasts[i] for i in ids if i in self.forecasts]
        quotas = [q for i in ids if (q := self.qtd.partial(i, "quota")) > 0]
        due = math.fsum(self.qtd.partial(i, "due_weighted_amount") for i in ids)
        return ForecastFacts(
            period=self.quarter.label,
            forecast=math.fsum(submitted) if submitted else None,
            won=float(qtd["won_amount"] or 0),
            weighted_pipeline=due if self.quarter.running else None,
            quota=math.fsum(quotas) if quotas else None,
        )

    def _won_changes(self, team_id: int) -> list[Mover]:
        """Each rep's won amount in the period vs the one before, where it changed."""
        changes = []
        for rep in self.current.reps.get(team_id, []):
            current = self.current.partial(rep.id, "won_amount")
            previous = self.before.partial(rep.id, "won_amount")
            if current != previous:
                changes.append(Mover(rep.name, "won_amount", current, previous))
        return changes

    def _held(self, team_id: int) -> list[Nudge]:
        manager = self.managers.get(team_id)
        return self.held.get(manager.id, []) if manager is not None else []

    def _recipient(self, team_id: int) -> Recipient | None:
        manager = self.managers.get(team_id)
        return None if manager is None else recipient_of(manager, self.org)


def recipient_of(rep: Rep, org: OrgConfig) -> Recipient:
    """A rep as a digest's recipient, in the rep's stored time zone, else the org's."""
    return Recipient(
        rep_id=rep.id,
        name=rep.name,
        email=rep.email,
        slack_user_id=rep.slack_user_id,
        timezone=rep.timezone or org.timezone,
    )


def finite(value: float | None) -> float | None:
    """The value as a float; None for None, NaN and infinities."""
    return None if value is None or not math.isfinite(value) else float(value)


def behind_first(lines: Iterable[RepLine]) -> list[RepLine]:
    """The lines behind pace, the biggest gap to pace first."""
    behind = (line for line in lines if line.behind_pace)
    return sorted(behind, key=lambda line: (-(line.pace_gap or 0), line.name))


def slowest_first(responders: Iterable[Responder]) -> list[Responder]:
    """Most SLA breaches first, then the slowest median (no answered lead counts as slowest)."""
    return sorted(
        responders,
        key=lambda r: (
            -r.breaches,
            -(math.inf if r.median_minutes is None else r.median_minutes),
            r.name,
        ),
    )


# the parts of pipeline efficiency move with it: the efficiency itself stands for them
PERCENT_KPIS = tuple(
    kpi.key for kpi in KPIS if kpi.unit is Unit.PERCENT and kpi.key not in CONVERSION_PARTS
)


def biggest_movers(
    team: str, kpis: Mapping[str, Any], previous: Mapping[str, Any], won_changes: list[Mover]
) -> list[Mover]:
    """What changed most vs the previous period: the team's percentage KPI that moved most
    in points (when one moved), then the `REP_MOVERS` reps whose won amount changed most."""
    moved = [
        (abs(kpis[key] - previous[key]), key)
        for key in PERCENT_KPIS
        if kpis[key] is not None and previous[key] is not None and kpis[key] != previous[key]
    ]
    movers = []
    if moved:
        _, key = max(moved, key=lambda pair: (pair[0], -PERCENT_KPIS.index(pair[1])))
        movers.append(Mover(team, key, kpis[key], previous[key]))
    reps = sorted(
        won_changes,
        key=lambda m: (-abs((m.current or 0) - (m.previous or 0)), m.subject),
    )
    return movers + reps[:REP_MOVERS]
