"""Unanswered leads split into those still waiting and those closed without a response, the
same in /leads and `salesops leads`, and adding up to the `leads_unanswered` KPI: a lead
answered only after now is still waiting at now."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bot.cli.main import app
from commands.base import run_command
from commands.kit.text import reply_as_text
from salesops_core.db.models import Lead, LeadStatus
from salesops_core.kpi.details import unanswered_leads
from salesops_core.kpi.views import scope_numbers
from salesops_core.org.scopes import ORG_SCOPE
from salesops_core.periods import parse_period
from tests.support.command_org import NOW, Org, build_org, context, t


@pytest.fixture
def org(session: Session) -> Org:
    org = build_org(session)
    jane = org.jane.rep_id
    session.add_all(
        [  # two more unanswered leads of Q4 that were closed as dead, and one answered after NOW
            Lead(external_id="C1", owner_id=jane, source="web", created_at=t(10, 5),
                 status=LeadStatus.CLOSED),
            Lead(external_id="C2", owner_id=jane, source="web", created_at=t(10, 6),
                 status=LeadStatus.CLOSED),
            Lead(external_id="C3", owner_id=jane, source="web", created_at=t(11, 16, 11),
                 first_response_at=t(11, 17), status=LeadStatus.RESPONDED),
        ]
    )  # fmt: skip
    session.commit()
    return org


def test_unanswered_leads_at_now_are_waiting_or_closed_and_add_up_to_the_kpi(
    session: Session, org: Org
) -> None:
    ctx = context()
    quarter = parse_period("this-quarter", tz=ctx.org.tz, now=NOW)
    split = unanswered_leads(session, ORG_SCOPE, quarter, NOW)
    assert (split.waiting, split.closed) == (2, 2)  # Acme and C3 (answered after NOW) wait
    kpis = scope_numbers(session, ORG_SCOPE, quarter, ctx.org, ctx.sla, NOW).kpis
    assert split.total == kpis["leads_unanswered"] == 4


def test_leads_org_says_how_many_unanswered_leads_still_wait(session: Session, org: Org) -> None:
    text = reply_as_text(run_command(session, org.admin, "/leads", "org", context()))
    assert "Leads unanswered: 4 (2 still waiting, 2 closed without a response)" in text


def test_the_cli_shows_the_same_split(session: Session, org: Org, database_url: str) -> None:
    result = CliRunner().invoke(
        app, ["leads", "--now", NOW.isoformat()], env={"DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert (
        "Leads created this-quarter (2026-Q4): 4 unanswered (2 still waiting, "
        "2 closed without a response)" in said
    )
