"""A new lead for a rep who has left is never DM'd to them: the round-robin routes it, as it
routes a lead naming nobody, and the assignment log (`how_routed`) says why."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.db.models import LeadAssignment, Outbox, Rep
from salesops_core.leads.engine import create_lead
from salesops_core.leads.routing import OWNER_INACTIVE, ROUND_ROBIN, how_routed
from tests.support.lead_helpers import MONDAY_10_UTC, WALL_CLOCK, make_team

T0 = MONDAY_10_UTC


def leaver(session: Session) -> Rep:
    gone = Rep(name="Gus Gone", email="gus@x.test", slack_user_id="UGUS", active=False)
    session.add(gone)
    session.flush()
    return gone


def test_a_lead_for_a_leaver_goes_to_the_round_robin_and_says_why(session: Session) -> None:
    _, (rep1, _) = make_team(session)
    gone = leaver(session)
    lead, created = create_lead(session, WALL_CLOCK, external_id="L1", owner=gone, now=T0)
    assert created and lead.owner_id == rep1.id
    assert [o.channel for o in session.scalars(select(Outbox))] == ["U1"]  # none to UGUS
    log = [(a.from_rep_id, a.to_rep_id, a.reason) for a in session.scalars(select(LeadAssignment))]
    assert log == [(None, gone.id, "ingest"), (gone.id, rep1.id, OWNER_INACTIVE)]
    routed = how_routed(session, lead)
    assert routed is not None and (routed.reason, routed.owner, routed.named) == (
        OWNER_INACTIVE,
        rep1,
        gone,
    )
    assert routed.message == (
        "Gus Gone is inactive (has left), so the lead was routed by round-robin to Rep 1."
    )


def test_with_nobody_available_the_leavers_lead_is_left_unowned_and_unsent(
    session: Session,
) -> None:
    gone = leaver(session)
    lead, _ = create_lead(session, WALL_CLOCK, external_id="L1", owner=gone, now=T0)
    assert lead.owner_id is None
    assert session.scalars(select(Outbox)).all() == []
    routed = how_routed(session, lead)
    assert routed is not None and routed.owner is None
    assert routed.message == (
        "Gus Gone is inactive (has left), so the lead was left unowned "
        "(nobody is available for round-robin)."
    )


def test_an_answered_lead_keeps_the_leaver_who_answered_it(session: Session) -> None:
    make_team(session)
    gone = leaver(session)
    lead, _ = create_lead(
        session, WALL_CLOCK, external_id="L1", owner=gone, first_response_at=T0, now=T0
    )
    assert (lead.owner_id, lead.responded_by_id) == (gone.id, gone.id)
    assert session.scalars(select(Outbox)).all() == []
    assert how_routed(session, lead) is None


def test_an_active_owner_keeps_the_lead_and_a_lead_naming_nobody_says_so(
    session: Session,
) -> None:
    _, (rep1, rep2) = make_team(session)
    named, _ = create_lead(session, WALL_CLOCK, external_id="L1", owner=rep2, now=T0)
    assert named.owner_id == rep2.id and how_routed(session, named) is None
    unnamed, _ = create_lead(session, WALL_CLOCK, external_id="L2", now=T0)
    routed = how_routed(session, unnamed)
    assert routed is not None and routed.reason == ROUND_ROBIN
    assert routed.message == "No owner was given, so the lead was routed by round-robin to Rep 1."
    assert unnamed.owner_id == rep1.id
