"""`explain`: the formula, the definition choices, the counts and the records behind a KPI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import Activity, Deal, Forecast, Outcome, Quota, Rep
from salesops_core.kpi import queries as q
from salesops_core.kpi import rules
from salesops_core.kpi.asof import STAGE_NOT_RECORDED, open_deals_at
from salesops_core.kpi.conversion import start_outcomes
from salesops_core.kpi.details import lead_response_minutes, stage_conversion
from salesops_core.kpi.engine import gather, scope_kpis
from salesops_core.kpi.format import money
from salesops_core.kpi.registry import CHOICES, COMMON_CHOICES, EXPLAINABLE, Family
from salesops_core.org.scopes import Scope, in_scope
from salesops_core.periods import Period
from salesops_core.timeutil import as_utc, utcnow

__all__ = ["EXPLAINABLE", "Explanation", "explain"]


@dataclass
class Explanation:
    """What `salesops explain` shows."""

    key: str
    value: Any
    formula: str
    choices: list[str]
    counts: dict[str, Any] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)


def explain(
    session: Session,
    key: str,
    scope: Scope,
    period: Period,
    org: OrgConfig,
    sla: Sequence[SlaPolicy] = (),
    *,
    now: datetime | None = None,
) -> Explanation:
    """Explain one KPI (or stage_conversion) for a scope and period."""
    now = now or utcnow()
    definition = EXPLAINABLE[key]
    family = definition.family
    kpis: Mapping[str, Any] = scope_kpis(
        session, scope, gather(session, scope, period, org, sla, now)
    )
    result = Explanation(
        key=key,
        value=stage_conversion(session, scope, period) if family == Family.FUNNEL else kpis[key],
        formula=definition.formula,
        choices=[*CHOICES[family], *COMMON_CHOICES],
    )
    until = period.effective_end(now)
    if family == Family.DEALS or key == "quota_attainment":
        result.records += _closed_deal_records(session, key, scope, period)
    if family == Family.QUOTA:
        result.records += _quota_records(session, scope, period)
    if family == Family.OPEN:
        result.records += _open_deal_records(session, key, scope, period, until, org)
    if family == Family.LEADS:
        result.records += _lead_records(session, key, scope, period, org, sla, now)
    if family == Family.ACTIVITIES:
        result.records += _activity_records(session, key, scope, period, until)
    if family == Family.FORECAST:
        result.records += _forecast_records(session, scope, period)
        result.records += _closed_deal_records(session, "won_amount", scope, period)
    if family == Family.FUNNEL:
        result.records = [dict(row) for row in result.value]
    if family == Family.CONVERSION:
        result.records += _conversion_records(session, scope, period, until, now)
    counted = sum(1 for r in result.records if r.get("status") == "counted")
    result.counts = {"counted": counted, "left out": len(result.records) - counted}
    if key == "pipeline_velocity_per_day":
        result.counts.update(
            {k: kpis[k] for k in ("win_rate", "avg_deal_size", "avg_sales_cycle_days")}
        )
    return result


def _record(status: bool, reason: str, **fields: Any) -> dict[str, Any]:
    return {"status": "counted" if status else "left out", "reason": reason, **fields}


def _closed_deal_records(
    session: Session, key: str, scope: Scope, period: Period
) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Deal.external_id, Deal.name, Rep.name.label("owner"), Deal.amount, Deal.outcome)
        .add_columns(Deal.created_at, Deal.closed_at, rules.closed_in(period).label("in_period"))
        .join(Rep, Rep.id == Deal.owner_id)
        .where(
            Deal.closed_at >= rules.at_time(period.start),
            Deal.closed_at <= rules.at_time(period.end),
            Deal.outcome.in_([Outcome.WON, Outcome.LOST]),
            in_scope(Deal.owner_id, scope),
        )
        .order_by(Deal.closed_at, Deal.id)
    ).all()
    records = []
    for r in rows:
        won = r.outcome == Outcome.WON
        if not r.in_period:
            ok, why = False, "closed exactly at period end: belongs to the next period"
        elif key == "lost_count":
            ok, why = not won, "lost" if not won else "won, not lost"
        elif key in ("win_rate",):
            ok, why = True, r.outcome.value
        elif not won:
            ok, why = False, "lost"
        elif key == "avg_deal_size" and r.amount is None:
            ok, why = False, "won without an amount"
        else:
            ok, why = True, "won" + (" (no amount: adds 0)" if r.amount is None else "")
        cycle = (r.closed_at - r.created_at).total_seconds() / 86400
        records.append(
            _record(
                ok,
                why,
                kind="deal",
                id=r.external_id,
                name=r.name,
                owner=r.owner,
                amount=r.amount,
                closed_at=r.closed_at.isoformat(),
                cycle_days=round(cycle, 2),
            )
        )
    return records


def _quota_records(session: Session, scope: Scope, period: Period) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Quota.period_start, Quota.period_end, Quota.amount, Rep.name.label("owner"))
        .add_columns(rules.quota_inside(period).label("inside"))
        .join(Rep, Rep.id == Quota.rep_id)
        .where(
            Quota.period_start < rules.at_time(period.end),
            Quota.period_end > rules.at_time(period.start),
            in_scope(Quota.rep_id, scope),
        )
        .order_by(Rep.name, Quota.period_start)
    ).all()
    records = []
    for r in rows:
        inside = bool(r.inside)
        reason = "inside the period" if inside else "reaches outside the period (not pro-rated)"
        if inside and not r.amount:
            reason = "inside the period, amount 0 (no quota)"
        records.append(
            _record(
                inside and bool(r.amount),
                reason,
                kind="quota",
                owner=r.owner,
                start=r.period_start.isoformat(),
                end=r.period_end.isoformat(),
                amount=r.amount,
            )
        )
    return records


def _open_deal_records(
    session: Session, key: str, scope: Scope, period: Period, at: datetime, org: OrgConfig
) -> list[dict[str, Any]]:
    """The deals open at `at`, each as of then (`kpi.asof`); for the coverage of a closed
    period (`at` its end), the deals open at its start, as of then."""
    if key == "pipeline_coverage" and at >= period.end:
        at = period.start
    deals = open_deals_at(
        at,
        in_scope(Deal.owner_id, scope),
        columns=(
            Deal.external_id,
            Deal.name,
            Deal.created_at,
            Deal.expected_close,
            rules.last_activity_before(at).label("last_activity"),
            rules.stale_at(at, org.stale_deal_days).label("stale"),
            rules.due_in(period).label("due"),
        ),
    ).subquery()
    rows = session.execute(
        select(deals, Rep.name.label("owner"))
        .join(Rep, Rep.id == deals.c.owner_id)
        .order_by(deals.c.expected_close, deals.c.deal_id)
    ).all()
    records = []
    for r in rows:
        touched = q_time(r.last_activity) or r.created_at
        stale, due = bool(r.stale), bool(r.due)
        if key == "stale_deal_share":
            ok, why = True, "stale" if stale else "active"
        elif key == "pipeline_coverage":
            ok = due
            why = "expected to close in period" if due else "expected close outside period"
        elif r.amount is None:
            ok, why = False, "no amount: adds 0"
        elif r.stage is None and key == "weighted_pipeline_value":
            ok, why = False, "stage then not recorded: not weighted"
        else:
            ok, why = True, "open at " + at.isoformat(timespec="minutes")
        records.append(
            _record(
                ok,
                why,
                kind="deal",
                id=r.external_id,
                name=r.name,
                owner=r.owner,
                amount=r.amount,
                stage=STAGE_NOT_RECORDED if r.stage is None else r.stage,
                probability=r.probability,
                expected_close=r.expected_close.isoformat() if r.expected_close else None,
                last_activity=touched.isoformat(),
            )
        )
    return records


def _conversion_records(
    session: Session, scope: Scope, period: Period, until: datetime, now: datetime
) -> list[dict[str, Any]]:
    """The deals open at the period start, each with its start amount and where it went."""
    if until <= period.start:
        return []
    split = start_outcomes(scope, period, until)
    rows = session.execute(
        select(split, Deal.external_id, Deal.name, Deal.amount, Deal.closed_at, Deal.outcome)
        .add_columns(Rep.name.label("owner_name"))
        .join(Deal, Deal.id == split.c.deal_id)
        .join(Rep, Rep.id == Deal.owner_id)
        .order_by(func.coalesce(split.c.start_amount, 0).desc(), Deal.id)  # biggest first
    ).all()
    end = "now" if until >= now else "at period end"
    records = []
    for r in rows:
        shrunk = f": {money(r.shrunk)} shrunk" if r.shrunk else ""
        closed = r.closed_at is not None and r.closed_at < until
        if r.start_amount is None:
            why = "no amount at the start: adds nothing"
        elif closed and r.outcome == Outcome.LOST:
            why = "lost"
        elif not (closed and r.outcome == Outcome.WON):
            why = f"still open {end}{shrunk}"
        elif r.amount is not None and r.amount > r.start_amount:
            why = "won for more: counts its start amount"
        else:
            why = f"won for less{shrunk}" if shrunk else "won"
        records.append(
            _record(
                r.start_amount is not None,
                why,
                kind="deal",
                id=r.external_id,
                name=r.name,
                owner=r.owner_name,
                start_amount=r.start_amount,
                won=r.won,
                lost=r.lost,
                slipped=r.slipped,
                shrunk=r.shrunk,
                closed_at=r.closed_at.isoformat() if r.closed_at else None,
            )
        )
    return records


def q_time(value: Any) -> datetime | None:
    """A MAX() over a time-stamp column comes back as text on SQLite: make it aware UTC."""
    if value is None or isinstance(value, datetime):
        return value
    return as_utc(datetime.fromisoformat(str(value)))


def _lead_records(
    session: Session,
    key: str,
    scope: Scope,
    period: Period,
    org: OrgConfig,
    sla: Sequence[SlaPolicy],
    now: datetime,
) -> list[dict[str, Any]]:
    records = []
    for lead in lead_response_minutes(session, scope, period, org, sla, now=now):
        answered = lead["minutes"] is not None
        if key == "lead_response_minutes_median":
            ok, why = answered, "answered" if answered else "unanswered (reported separately)"
        elif key == "lead_response_minutes_p90":
            ok, why = True, "answered" if answered else "unanswered: counted at its wait so far"
        elif key == "leads_unanswered":
            ok, why = not answered, "unanswered" if not answered else "answered"
        elif lead["met_sla"] is None:
            ok, why = False, "unanswered, still inside its SLA"
        else:
            ok, why = True, "met SLA" if lead["met_sla"] else "missed SLA"
        created = lead["created_at"].isoformat()
        records.append(_record(ok, why, kind="lead", **{**lead, "created_at": created}))
    return records


def _activity_records(
    session: Session, key: str, scope: Scope, period: Period, until: datetime
) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            Activity.external_id,
            Rep.name.label("owner"),
            Activity.type,
            Activity.started_at,
            Activity.minutes,
            Activity.external_attendee,
            rules.selling_activity().label("selling"),
            rules.prospect_meeting().label("prospect_meeting"),
        )
        .join(Rep, Rep.id == Activity.rep_id)
        .where(
            Activity.started_at >= rules.at_time(period.start),
            Activity.started_at < rules.at_time(until),
            in_scope(Activity.rep_id, scope),
        )
        .order_by(Activity.started_at, Activity.id)
    ).all()
    records = []
    for r in rows:
        if key == "meetings_per_rep_per_week":
            ok = bool(r.prospect_meeting)
            if ok:
                why = "prospect meeting"
            elif r.type in rules.MEETING_TYPES:
                why = "no external attendee"
            else:
                why = f"{r.type.value}, not a meeting"
        elif r.minutes is None:
            ok, why = False, "no minutes logged"
        else:
            ok, why = True, "selling" if r.selling else "other"
        records.append(
            _record(
                ok,
                why,
                kind="activity",
                id=r.external_id,
                owner=r.owner,
                type=r.type.value,
                started_at=r.started_at.isoformat(),
                minutes=r.minutes,
                external_attendee=r.external_attendee,
            )
        )
    return records


def _forecast_records(session: Session, scope: Scope, period: Period) -> list[dict[str, Any]]:
    ranked = q.latest_forecasts(session, scope, period)
    chosen = set(session.scalars(select(ranked.c.id).where(ranked.c.rank == 1)))
    rows = session.execute(
        select(Forecast, Rep.name.label("owner"))
        .join(Rep, Rep.id == Forecast.rep_id)
        .where(
            Forecast.period_start < rules.at_time(period.end),
            Forecast.period_end > rules.at_time(period.start),
            in_scope(Forecast.rep_id, scope),
        )
        .order_by(Rep.name, Forecast.submitted_at)
    ).all()
    records = []
    for forecast, owner in rows:
        if forecast.id in chosen:
            why = "latest commit submitted before the period started"
        elif forecast.category != q.DEFAULT_FORECAST_CATEGORY:
            why = f"category {forecast.category}, not commit"
        elif forecast.submitted_at >= period.start:
            why = "submitted after the period started"
        elif forecast.period_start < period.start or forecast.period_end > period.end:
            why = "forecast period reaches outside the report period"
        else:
            why = "superseded by a later forecast"
        records.append(
            _record(
                forecast.id in chosen,
                why,
                kind="forecast",
                owner=owner,
                amount=forecast.amount,
                category=forecast.category,
                submitted_at=forecast.submitted_at.isoformat(),
                start=forecast.period_start.isoformat(),
                end=forecast.period_end.isoformat(),
            )
        )
    return records
