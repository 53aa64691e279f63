import threading
from datetime import timedelta

from sqlalchemy import func, select

from salesops_core import outbox
from salesops_core.db.models import Lead, LeadAssignment, LeadStatus, Outbox
from salesops_core.leads.engine import (
    create_lead,
    find_lead,
    lock_lead,
    reassign,
    record_response,
    snooze,
    sweep,
    update_lead_dm,
)
from salesops_core.leads.notices import LeadDmUpdate, LeadFacts, NewLead
from salesops_core.leads.views import breaches_between, open_leads
from tests.support.lead_helpers import MONDAY_10_UTC, WALL_CLOCK, make_team

T0 = MONDAY_10_UTC


def outbox_keys(session):
    return sorted(session.scalars(select(Outbox.dedupe_key)))


def new_lead(session, owner=None, external_id="L1", **kw):
    lead, _ = create_lead(
        session, WALL_CLOCK, external_id=external_id, created_at=T0, owner=owner, now=T0, **kw
    )
    return lead


def test_new_lead_gets_deadline_ladder_and_one_dm_to_its_owner(session):
    _, (rep, _) = make_team(session)
    lead = new_lead(session, owner=rep, source="web", company="Acme")
    session.commit()
    assert lead.sla_due_at == T0 + timedelta(minutes=5)
    assert lead.next_due_at == T0 + timedelta(minutes=5)
    [dm] = session.scalars(select(Outbox)).all()
    assert (dm.kind, dm.channel) == ("lead_dm", "U1")
    facts = LeadFacts(lead.id, "L1", "Acme", "web", T0 + timedelta(minutes=5))
    assert outbox.read_notice(NewLead, dm.payload) == NewLead(facts)
    assert [a.reason for a in session.scalars(select(LeadAssignment))] == ["ingest"]


def test_creating_the_same_external_id_twice_returns_the_first_lead(session):
    _, (rep, _) = make_team(session)
    first = new_lead(session, owner=rep)
    again, created = create_lead(session, WALL_CLOCK, external_id="L1", owner=rep, now=T0)
    assert (again.id, created) == (first.id, False)
    assert session.scalar(select(func.count()).select_from(Outbox)) == 1


def test_lead_without_owner_is_routed_round_robin_and_logged(session):
    make_team(session, reps=2)
    owners = [new_lead(session, external_id=f"L{n}").owner.slack_user_id for n in range(4)]
    assert owners == ["U1", "U2", "U1", "U2"]
    reasons = set(session.scalars(select(LeadAssignment.reason)))
    assert reasons == {"round_robin"}


def test_sweep_before_deadline_does_nothing(session):
    _, (rep, _) = make_team(session)
    new_lead(session, owner=rep)
    result = sweep(session, WALL_CLOCK, now=T0 + timedelta(minutes=4))
    assert result.leads_due == 0
    assert outbox_keys(session) == ["lead:1:assign:1"]


def test_ladder_reminds_then_alerts_manager_then_reassigns(session):
    _, (rep1, rep2) = make_team(session)
    lead = new_lead(session, owner=rep1)
    sweep(session, WALL_CLOCK, now=T0 + timedelta(minutes=5))
    assert lead.ladder_step == 1
    assert lead.next_due_at == T0 + timedelta(minutes=15)
    sweep(session, WALL_CLOCK, now=T0 + timedelta(minutes=15))
    sweep(session, WALL_CLOCK, now=T0 + timedelta(minutes=30))
    session.commit()
    rows = {o.dedupe_key: (o.kind, o.channel) for o in session.scalars(select(Outbox))}
    assert rows[f"lead:{lead.id}:step:1"] == ("remind_rep", "U1")
    assert rows[f"lead:{lead.id}:step:2"] == ("alert_manager", "M1")
    assert lead.owner_id == rep2.id
    assert lead.ladder_step == 3
    assert lead.next_due_at is None
    kinds = sorted(kind for kind, _ in rows.values())
    assert kinds == ["alert_manager", "lead_dm", "lead_dm", "lead_reassigned", "lead_reassigned",
                     "remind_rep"]  # fmt: skip
    log = [(a.from_rep_id, a.to_rep_id, a.reason) for a in session.scalars(select(LeadAssignment))]
    assert log[-1] == (rep1.id, rep2.id, "sla_reassign")
    # rep 1's DM and reminder (their buttons) are rewritten once sent; rep 1 hears nothing new
    by_id = {o.id: o for o in session.scalars(select(Outbox))}
    edits = [o for o in by_id.values() if o.kind == "lead_reassigned"]
    edited = sorted(by_id[o.edits_id].dedupe_key for o in edits)
    assert edited == [f"lead:{lead.id}:assign:1", f"lead:{lead.id}:step:1"]
    assert all(o.follows_id == o.edits_id and o.channel == "U1" for o in edits)


def test_a_late_sweep_fires_every_missed_step_once_in_order(session):
    _, (rep, _) = make_team(session)
    lead = new_lead(session, owner=rep)
    result = sweep(session, WALL_CLOCK, now=T0 + timedelta(minutes=20))
    assert result.steps_fired == {"remind_rep": 1, "alert_manager": 1}
    assert lead.ladder_step == 2
    assert lead.next_due_at == T0 + timedelta(minutes=30)


def test_each_step_fires_once_when_the_sweep_runs_twice(session):
    _, (rep, _) = make_team(session)
    new_lead(session, owner=rep)
    session.commit()
    at = T0 + timedelta(minutes=16)
    first = sweep(session, WALL_CLOCK, now=at)
    session.commit()
    second = sweep(session, WALL_CLOCK, now=at)
    session.commit()
    assert sum(first.steps_fired.values()) == 2
    assert second.steps_fired == {}
    assert len(outbox_keys(session)) == 3


def test_two_racing_sweeps_fire_each_step_once(sessions):
    with sessions.begin() as session:
        _, reps = make_team(session, reps=3)
        for n in range(30):
            new_lead(session, owner=reps[n % 3], external_id=f"L{n}")
    barrier = threading.Barrier(2)
    fired: list[int] = []
    errors: list[Exception] = []

    def run() -> None:
        barrier.wait()
        for _ in range(5):
            try:
                with sessions.begin() as session:
                    result = sweep(session, WALL_CLOCK, now=T0 + timedelta(minutes=31))
                    fired.append(sum(result.steps_fired.values()))
            except Exception as exc:  # SQLite may refuse a stale writer: that run fires nothing
                errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with sessions() as session:
        keys = outbox_keys(session)
        steps = [k for k in keys if ":step:" in k]
        assert len(steps) == 30 * 2  # remind + alert per lead; step 3 is the reassignment
        assignments = session.scalars(
            select(func.count())
            .select_from(LeadAssignment)
            .where(LeadAssignment.reason == "sla_reassign")
        ).one()
        assert assignments == 30
        assert sum(fired) == 30 * 3
        assert all("locked" in str(e) for e in errors)


def test_contacted_stops_the_ladder(session):
    _, (rep, _) = make_team(session)
    lead = new_lead(session, owner=rep)
    assert record_response(session, lead, rep=rep, at=T0 + timedelta(minutes=2))
    result = sweep(session, WALL_CLOCK, now=T0 + timedelta(hours=2))
    assert result.leads_due == 0
    assert lead.status == LeadStatus.RESPONDED
    assert outbox_keys(session) == [f"lead:{lead.id}:assign:1"]
    assert not record_response(session, lead, rep=rep, at=T0 + timedelta(minutes=3))
    assert lead.first_response_at == T0 + timedelta(minutes=2)


def test_snooze_holds_the_next_step_until_it_ends(session):
    _, (rep, _) = make_team(session)
    lead = new_lead(session, owner=rep)
    until = snooze(session, lead, minutes=15, now=T0 + timedelta(minutes=1))
    assert lead.next_due_at == until == T0 + timedelta(minutes=16)
    assert sweep(session, WALL_CLOCK, now=T0 + timedelta(minutes=10)).steps_fired == {}
    fired = sweep(session, WALL_CLOCK, now=T0 + timedelta(minutes=16)).steps_fired
    assert fired == {"remind_rep": 1, "alert_manager": 1}


def test_reassign_skips_the_current_owner_and_dms_the_new_one(session):
    _, (rep1, rep2) = make_team(session)
    lead = new_lead(session, owner=rep1)
    assert reassign(session, WALL_CLOCK, lead, reason="manual", now=T0) == rep2
    channels = sorted(o.channel for o in session.scalars(select(Outbox)))
    assert channels == ["U1", "U1", "U2"]  # first DM, reassigned notice, new owner's DM
    assert lead.next_due_at is None


def test_reassign_with_nobody_available_keeps_the_owner(session):
    _, (rep1,) = make_team(session, reps=1)
    lead = new_lead(session, owner=rep1)
    assert reassign(session, WALL_CLOCK, lead, reason="manual", now=T0) is None
    assert lead.owner_id == rep1.id


def test_open_leads_and_todays_breaches(session):
    _, (rep, _) = make_team(session)
    late = new_lead(session, owner=rep, external_id="late")
    quick = new_lead(session, owner=rep, external_id="quick")
    record_response(session, quick, at=T0 + timedelta(minutes=1))
    assert [lead.external_id for lead in open_leads(session)] == ["late"]
    day = T0.replace(hour=0)
    breached = breaches_between(session, day, day + timedelta(days=1), now=T0 + timedelta(hours=1))
    assert [lead.id for lead in breached] == [late.id]
    assert find_lead(session, "quick").status == LeadStatus.RESPONDED
    assert session.scalar(select(func.count()).select_from(Lead)) == 2


def test_lock_lead_reads_what_another_transaction_committed(sessions):
    with sessions.begin() as session:
        _, (rep, _) = make_team(session)
        lead_id = new_lead(session, owner=rep).id
    with sessions.begin() as first:
        stale = first.get(Lead, lead_id)
        assert stale.status == LeadStatus.OPEN
        with sessions.begin() as second:
            record_response(second, second.get(Lead, lead_id), at=T0)
        assert lock_lead(first, lead_id).status == LeadStatus.RESPONDED


def deliver(session, *sent):
    """Mark outbox rows delivered as the dispatcher would: (key, channel, ts), in that order."""
    claimed = {m.dedupe_key: m for m in outbox.claim(session, "test", now=T0)}
    for n, (key, channel, ts) in enumerate(sent):
        at = T0 + timedelta(seconds=n)
        assert outbox.mark_sent(session, claimed[key], slack_ts=ts, slack_channel=channel, now=at)


def test_dm_update_is_queued_only_once_the_dm_was_delivered(session):
    _, (rep, _) = make_team(session)
    lead = new_lead(session, owner=rep)
    assert not update_lead_dm(session, lead, "done", key="response")
    deliver(session, (f"lead:{lead.id}:assign:1", "D1", "111.2"))
    assert update_lead_dm(session, lead, "Response recorded.", key="response")
    assert not update_lead_dm(session, lead, "Response recorded.", key="response")
    dm = session.scalars(select(Outbox).where(Outbox.kind == "lead_dm")).one()
    row = session.scalars(select(Outbox).where(Outbox.kind == "lead_dm_update")).one()
    assert (row.edits_id, row.channel) == (dm.id, "U1")
    notice = outbox.read_notice(LeadDmUpdate, row.payload)
    assert (notice.status, notice.still_open) == ("Response recorded.", False)


def test_dm_update_edits_the_newest_delivered_dm(session):
    _, (rep1, _) = make_team(session)
    lead = new_lead(session, owner=rep1)
    reassign(session, WALL_CLOCK, lead, reason="manual", now=T0)
    deliver(
        session,
        (f"lead:{lead.id}:assign:2", "D2", "2.0"),
        (f"lead:{lead.id}:assign:1", "D1", "1.0"),
    )
    update_lead_dm(session, lead, "Response recorded.", key="response")
    row = session.scalars(select(Outbox).where(Outbox.kind == "lead_dm_update")).one()
    target = session.get(Outbox, row.edits_id)
    assert (target.dedupe_key, target.slack_channel) == (f"lead:{lead.id}:assign:1", "D1")
