"""The nudge rules: a few grouped queries over the whole org (or one person), never one per rep.

Each rule reuses the KPI definitions: a stale deal is `kpi.rules.stale_at` (quiet for
`stale_deal_days`, or past its expected close), attainment and selling time are the KPI
engine's per-rep numbers from the same grouped queries, behind pace is `kpi.pace`, and every
number in a text goes through `kpi.format`. Rules emit each person's nudges of one rule most
valuable first (the biggest deal first); the policy ranks across rules. The deal rules
(stale_deal, past_close) live in `nudges.deal_rules`; the per-person rules are here.

Who a rule is for: deal rules for the deal's owner, whatever their role; the activity rules
(few_meetings, low_selling_time) for reps, and for managers and admins only when they carry a
quota this quarter; behind_pace for anyone with a quota this quarter; no_forecast for anyone
with a quota this quarter or the next.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.config import NudgeRule
from salesops_core.kpi import queries as q
from salesops_core.kpi.engine import combine
from salesops_core.kpi.format import money, number, pct, plural
from salesops_core.kpi.pace import elapsed_share, pace_of
from salesops_core.nudges.context import Context
from salesops_core.nudges.deal_rules import deal_nudges
from salesops_core.nudges.facts import DEFERRALS, Action, Nudge
from salesops_core.nudges.people import Person
from salesops_core.org.scopes import ORG_SCOPE, Scope
from salesops_core.periods import Period, quarter_containing, week_period

MID_WEEK = (2, time(12, 0))  # few_meetings is judged from Wednesday noon (local) on


def find_nudges(session: Session, ctx: Context) -> list[Nudge]:
    """Every nudge the rules on in `[nudges] rules` find for the people in `ctx`."""
    wanted = set(ctx.config.rules)
    found: list[Nudge] = []
    if wanted & {NudgeRule.STALE_DEAL, NudgeRule.PAST_CLOSE}:
        found += [n for n in deal_nudges(session, ctx) if n.rule in wanted]
    quarter = (
        quarter_numbers(session, ctx)
        if wanted - {NudgeRule.STALE_DEAL, NudgeRule.PAST_CLOSE}
        else {}
    )
    if NudgeRule.NO_FORECAST in wanted:
        found += no_forecast(session, ctx, quarter)
    if NudgeRule.FEW_MEETINGS in wanted:
        found += few_meetings(session, ctx, quarter)
    if NudgeRule.BEHIND_PACE in wanted:
        found += behind_pace(ctx, quarter)
    if NudgeRule.LOW_SELLING_TIME in wanted:
        found += low_selling_time(ctx, quarter)
    return found


# --- per-person numbers -------------------------------------------------------------------


def quarter_numbers(session: Session, ctx: Context) -> dict[int | None, dict[str, Any]]:
    """Per rep this quarter to date: won amount, quota, selling and logged minutes (the KPI
    engine's grouped queries)."""
    quarter = ctx.quarter
    partials: q.Partials = {}
    q.closed_deals(session, ctx.scope, quarter, partials)
    q.quotas(session, ctx.scope, quarter, partials)
    q.activities(session, ctx.scope, quarter, quarter.effective_end(ctx.now), partials)
    return partials


def _kpis(row: dict[str, Any]) -> dict[str, Any]:
    return dict(combine([row], rep_rows=[row], rep_count=1, weeks=0.0, percentiles={}))


def _carries_quota(row: Mapping[str, Any] | None) -> bool:
    return bool(row and (row.get("quota") or 0) > 0)


def _activity_people(ctx: Context, quarter: Mapping[int | None, dict[str, Any]]) -> list[Person]:
    return [p for p in ctx.people.values() if p.is_rep or _carries_quota(quarter.get(p.rep_id))]


def behind_pace(ctx: Context, quarter: Mapping[int | None, dict[str, Any]]) -> list[Nudge]:
    """People with a quota whose attainment is behind pace (`kpi.pace`) by more than the margin."""
    period = ctx.quarter
    expected = elapsed_share(period, ctx.now)
    found = []
    for person in ctx.people.values():
        row = quarter.get(person.rep_id)
        if not _carries_quota(row):
            continue
        assert row is not None
        pace = pace_of(_kpis(row), expected, row["quota"])
        if not pace.behind or pace.attainment is None:
            continue
        if pace.attainment >= expected - ctx.config.behind_pace_margin:
            continue
        found.append(
            Nudge(
                rule=NudgeRule.BEHIND_PACE,
                rep_id=person.rep_id,
                rep=person.name,
                subject=f"period:{period.label}",
                fact=f"You are at {pct(pace.attainment)} of quota with {pct(expected)} of "
                f"the quarter gone",
                why=f"At this pace you finish at {pct(pace.projected)} of quota; "
                f"{money(pace.gap)} still to win.",
                actions=DEFERRALS,
                value=pace.attainment,
                target=expected,
            )
        )
    return found


def low_selling_time(ctx: Context, quarter: Mapping[int | None, dict[str, Any]]) -> list[Nudge]:
    """Selling share of this quarter's logged minutes below target, once enough is logged."""
    config, label = ctx.config, ctx.quarter.label
    found = []
    for person in _activity_people(ctx, quarter):
        row = quarter.get(person.rep_id) or {}
        if (row.get("logged_minutes") or 0) < config.min_logged_minutes:
            continue
        share = _kpis(row)["selling_time_share"]
        if share is None or share >= config.selling_time_target:
            continue
        found.append(
            Nudge(
                rule=NudgeRule.LOW_SELLING_TIME,
                rep_id=person.rep_id,
                rep=person.name,
                subject=f"period:{label}",
                fact=f"Selling was {pct(share)} of your logged time this quarter; "
                f"your target is {pct(config.selling_time_target)}",
                why="Calls, emails, meetings and demos move deals: log the ones you made, and "
                "look at what takes the rest of the week.",
                actions=(Action.LOG_ACTIVITY, *DEFERRALS),
                value=share,
                target=config.selling_time_target,
            )
        )
    return found


def _past_mid_week(person: Person, now: datetime) -> bool:
    local = now.astimezone(person.tz)
    weekday, noon = MID_WEEK
    return local.weekday() > weekday or (local.weekday() == weekday and local.time() >= noon)


def few_meetings(
    session: Session, ctx: Context, quarter: Mapping[int | None, dict[str, Any]]
) -> list[Nudge]:
    """Prospect meetings this week (held and booked, the org's Monday-to-Monday week) below
    target, for people past their own Wednesday noon."""
    target = ctx.config.meetings_per_week_target
    people = [p for p in _activity_people(ctx, quarter) if _past_mid_week(p, ctx.now)]
    if not people or target <= 0:
        return []
    week = week_period(ctx.now.astimezone(ctx.org.tz).date(), ctx.org.tz)
    partials: q.Partials = {}
    q.activities(session, ctx.scope, week, week.end, partials)
    found = []
    for person in people:
        meetings = (partials.get(person.rep_id) or {}).get("meetings") or 0
        if meetings >= target:
            continue
        found.append(
            Nudge(
                rule=NudgeRule.FEW_MEETINGS,
                rep_id=person.rep_id,
                rep=person.name,
                subject=f"week:{week.label}",
                fact=f"{plural(meetings, 'prospect meeting')} this week; "
                f"your target is {number(target)}",
                why="The meetings booked this week are next quarter's pipeline.",
                actions=(Action.LOG_ACTIVITY, *DEFERRALS),
                value=meetings,
                target=target,
            )
        )
    return found


def forecast_due(next_quarter: Period, due_days: int) -> date:
    """The local day the coming quarter's commit is due: `due_days` before it starts, moved
    back to a Friday when that falls on a weekend."""
    day = next_quarter.start.date() - timedelta(days=due_days)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _due_words(due: date, today: date) -> str:
    ahead = (due - today).days
    if ahead == 0:
        return "due today"
    if ahead == 1:
        return "due tomorrow"
    if 1 < ahead < 7:
        return f"due {due:%A}"
    if ahead < 0:
        return f"was due {due:%A} {due:%b} {due.day}"
    return f"due {due:%a} {due:%b} {due.day}"


def no_forecast(
    session: Session, ctx: Context, quarter: Mapping[int | None, dict[str, Any]]
) -> list[Nudge]:
    """No commit forecast for the coming quarter, from `forecast_remind_days` before it is due
    until the quarter starts; for people with a quota this quarter or the next."""
    config, org = ctx.config, ctx.org
    coming = quarter_containing(ctx.quarter.end.date(), org.tz, org.fiscal_year_start_month)
    due = forecast_due(coming, config.forecast_due_days)
    today = ctx.now.astimezone(org.tz).date()
    if (due - today).days > config.forecast_remind_days:
        return []
    next_quotas: q.Partials = {}
    q.quotas(session, ctx.scope, coming, next_quotas)
    ranked = q.latest_forecasts(session, ctx.scope, coming, submitted_before=ctx.now)
    submitted = set(session.scalars(select(ranked.c.rep_id).where(ranked.c.rank == 1)))
    found = []
    for person in ctx.people.values():
        if person.rep_id in submitted:
            continue
        if not (
            _carries_quota(quarter.get(person.rep_id))
            or _carries_quota(next_quotas.get(person.rep_id))
        ):
            continue
        found.append(
            Nudge(
                rule=NudgeRule.NO_FORECAST,
                rep_id=person.rep_id,
                rep=person.name,
                subject=f"period:{coming.label}",
                fact=f"No commit forecast for {coming.label} yet, {_due_words(due, today)}",
                why="Your manager rolls the team's call up from these; without yours it is "
                "incomplete.",
                actions=(Action.SUBMIT_FORECAST, *DEFERRALS),
                value=(due - today).days,
            )
        )
    return found


def scope_of(rep_id: int | None, people: Mapping[int, Person]) -> Scope:
    """The scope the rules read: the org, or one person."""
    if rep_id is None:
        return ORG_SCOPE
    person = people.get(rep_id)
    return Scope("rep", rep_id, person.name if person else str(rep_id))
