"""What the CRM sync tests compare: the records a database holds (without its own ids) and
the KPIs `salesops kpi --format json` prints for it, so a synced database can be checked
against one filled by `salesops import` from the same records."""

from __future__ import annotations

import json
import math
import traceback
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, sessionmaker
from typer.testing import CliRunner

from bot.cli.main import app
from salesops_core.db.models import Activity, Deal, DealStageChange, Lead, Rep, Team

Cli = Callable[..., tuple[int, str, str]]
NOW = "2026-12-01T12:00:00"  # one moment for both databases (unanswered leads count to it)


def cli_for(env: dict[str, str]) -> Cli:
    """`salesops ...` in this process with `env`: (exit code, stdout, error or traceback)."""

    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(app, list(args), env=env)
        error = result.stderr
        if result.exception and result.exc_info and not isinstance(result.exception, SystemExit):
            error = "".join(traceback.format_exception(*result.exc_info))
        return result.exit_code, result.stdout, error

    return run


def held_records(sessions: sessionmaker[Session]) -> dict[str, set[tuple[Any, ...]]]:
    """Reps, deals, stage changes, leads and activities as comparable tuples."""
    owner = aliased(Rep)
    manager = aliased(Rep)
    with sessions() as s:
        reps = s.execute(
            select(Rep.email, Rep.name, Rep.crm_user_id, Rep.role, Team.name, manager.email)
            .outerjoin(Team, Rep.team_id == Team.id)
            .outerjoin(manager, Rep.manager_id == manager.id)
        ).all()
        deals = s.execute(
            select(
                Deal.external_id, owner.email, Deal.amount, Deal.stage, Deal.outcome,
                Deal.probability, Deal.created_at, Deal.closed_at, Deal.expected_close,
                Deal.account,
            ).join(owner, Deal.owner_id == owner.id)
        ).all()  # fmt: skip
        changes = s.execute(
            select(
                Deal.external_id, DealStageChange.stage, DealStageChange.entered_at,
                DealStageChange.amount, DealStageChange.probability,
            ).join(Deal, DealStageChange.deal_id == Deal.id)
        ).all()  # fmt: skip
        leads = s.execute(
            select(
                Lead.external_id, owner.email, Lead.source, Lead.company, Lead.created_at,
                Lead.first_response_at, Lead.sla_due_at,
            ).outerjoin(owner, Lead.owner_id == owner.id)
        ).all()  # fmt: skip
        deal = aliased(Deal)
        lead = aliased(Lead)
        activities = s.execute(
            select(
                Activity.external_id, owner.email, Activity.type, Activity.started_at,
                Activity.minutes, deal.external_id, lead.external_id, Activity.external_attendee,
            )
            .join(owner, Activity.rep_id == owner.id)
            .outerjoin(deal, Activity.deal_id == deal.id)
            .outerjoin(lead, Activity.lead_id == lead.id)
        ).all()  # fmt: skip
    return {
        "reps": {tuple(r) for r in reps},
        "deals": {tuple(r) for r in deals},
        "stage_changes": {tuple(r) for r in changes},
        "leads": {tuple(r) for r in leads},
        "activities": {tuple(r) for r in activities},
    }


def kpis(cli: Cli, *periods: str) -> dict[str, Any]:
    """`salesops kpi --format json` of the org for each period."""
    out = {}
    for period in periods:
        code, stdout, error = cli("kpi", "--period", period, "--format", "json", "--now", NOW)
        assert code == 0, error
        out[period] = json.loads(stdout)["kpis"]
    return out


def differences(
    ours: dict[str, set[tuple[Any, ...]]], theirs: dict[str, set[tuple[Any, ...]]]
) -> dict[str, tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]]:
    """Per table, the records only one side holds (empty when both hold the same)."""
    return {
        kind: (ours[kind] - theirs[kind], theirs[kind] - ours[kind])
        for kind in ours
        if ours[kind] != theirs[kind]
    }


def kpi_differences(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The KPIs (`period key`) that differ on the two sides; floats within 1e-9 relative
    (PostgreSQL sums NUMERIC exactly, SQLite in floats: 4753026.31 vs 4753026.3100000005)."""

    def same(a: Any, b: Any) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=1e-9)
        return bool(a == b)

    return {
        f"{period} {key}": (value, theirs[period].get(key))
        for period, numbers in ours.items()
        for key, value in numbers.items()
        if not same(value, theirs[period].get(key))
    }
