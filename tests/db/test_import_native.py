"""Native CSV import: every kind loads, re-import changes nothing, stage changes recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.db.models import (
    Activity,
    ActivityType,
    Deal,
    DealStageChange,
    Forecast,
    Lead,
    LeadStatus,
    Outcome,
    Quota,
    Rep,
    Role,
    Stage,
    Team,
)
from salesops_core.importers.report import ImportFailed
from tests.support.import_helpers import (
    FIXTURES,
    counts,
    fixture_text,
    load_reps,
    run_import,
    write,
)

STAGES = FIXTURES / "stage_map.csv"


def load_all(sessions: sessionmaker[Session]) -> list[str]:
    """Import every native fixture in dependency order; their summary lines."""
    summaries = [load_reps(sessions).summary()]
    summaries.append(
        run_import(sessions, FIXTURES / "deals.csv", "deals", stage_map_file=STAGES).summary()
    )
    for kind in ("leads", "activities", "quotas", "forecasts"):
        summaries.append(run_import(sessions, FIXTURES / f"{kind}.csv", kind).summary())
    return summaries


def test_reps_file_builds_teams_regions_managers_and_roles(
    sessions: sessionmaker[Session],
) -> None:
    result = load_reps(sessions)
    assert (result.created, result.updated, result.unchanged) == (6, 0, 0)
    with sessions() as session:
        teams = {t.name: t.region for t in session.scalars(select(Team))}
        reps = {r.email: r for r in session.scalars(select(Rep))}
        by_id = {r.id: r for r in reps.values()}
    assert teams == {"East": "AMER", "West": "EMEA"}
    assert by_id[reps["ada@example.com"].manager_id].name == "Grace Hopper"  # named later
    assert by_id[reps["alan@example.com"].manager_id].name == "Grace Hopper"
    assert by_id[reps["linus@example.com"].manager_id].name == "Marie Curie"
    assert reps["grace@example.com"].role == Role.MANAGER  # no role given, manages people
    assert reps["alan@example.com"].role == Role.REP
    assert reps["admin@example.com"].role == Role.ADMIN
    assert reps["admin@example.com"].team_id is None
    assert reps["ada@example.com"].slack_user_id == "U0ADA"
    assert reps["linus@example.com"].timezone == "Europe/Paris"


def test_every_native_kind_loads_and_a_second_import_changes_nothing(
    sessions: sessionmaker[Session],
) -> None:
    first = load_all(sessions)
    assert first == [
        "reps: 6 created, 0 updated, 0 unchanged",
        "deals: 4 created, 0 updated, 0 unchanged; 4 stage(s) saved to the stage map; "
        "4 stage change(s) recorded",
        "leads: 3 created, 0 updated, 0 unchanged",
        "activities: 4 created, 0 updated, 0 unchanged",
        "quotas: 2 created, 0 updated, 0 unchanged",
        "forecasts: 2 created, 0 updated, 0 unchanged",
    ]
    before = counts(sessions)
    second = load_all(sessions)
    assert second == [
        "reps: 0 created, 0 updated, 6 unchanged",
        "deals: 0 created, 0 updated, 4 unchanged",
        "leads: 0 created, 0 updated, 3 unchanged",
        "activities: 0 created, 0 updated, 4 unchanged",
        "quotas: 0 created, 0 updated, 2 unchanged",
        "forecasts: 0 created, 0 updated, 2 unchanged",
    ]
    assert counts(sessions) == before


def test_deal_values_are_parsed_and_outcomes_come_from_the_stage_map(
    sessions: sessionmaker[Session],
) -> None:
    load_all(sessions)
    with sessions() as session:
        deals = {d.external_id: d for d in session.scalars(select(Deal))}
        changes = session.execute(
            select(Deal.external_id, DealStageChange.stage, DealStageChange.entered_at).join(
                Deal, Deal.id == DealStageChange.deal_id
            )
        ).all()
        stages = {
            s.name: (s.sort_order, s.probability, s.outcome) for s in session.scalars(select(Stage))
        }
    d1, d2, d3, d4 = (deals[k] for k in ("D-1", "D-2", "D-3", "D-4"))
    assert (d1.amount, d1.currency, d1.probability, d1.outcome) == (12500.0, "USD", 0.6, "open")
    assert d1.expected_close == datetime(2026, 3, 31, tzinfo=UTC)
    assert d1.closed_at is None
    assert (d2.outcome, d2.closed_at) == (Outcome.WON, datetime(2026, 2, 14, 15, tzinfo=UTC))
    assert d2.probability is None  # from the stage
    assert (d3.outcome, d3.amount, d3.currency) == (Outcome.LOST, 1250.5, "EUR")
    assert d3.created_at == datetime(2026, 1, 15, tzinfo=UTC)
    assert d3.closed_at == datetime(2026, 3, 7, 14, 5, tzinfo=UTC)
    assert d3.owner_id == d1.owner_id  # owner email matched ignoring case
    assert (d4.outcome, d4.forecast_category) == (Outcome.OPEN, "pipeline")
    # an open deal's stage from its creation; a closed one's closing stage from its close only
    assert sorted(changes) == sorted(
        (d.external_id, d.stage, d.closed_at or d.created_at) for d in (d1, d2, d3, d4)
    )
    assert stages["Negotiation"] == (2, 0.6, Outcome.OPEN)
    assert stages["Closed Won"] == (3, 1.0, Outcome.WON)


def test_changed_stage_updates_the_deal_and_records_one_stage_change(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    load_all(sessions)
    changed = write(
        tmp_path,
        "deals.csv",
        fixture_text("deals.csv").replace(
            "Negotiation,60,2026-01-05T09:30:00Z,2026-03-31,,,",
            "Closed Won,100,2026-01-05T09:30:00Z,2026-03-31,2026-03-20T12:00:00Z,,",
        ),
    )
    now = datetime(2026, 3, 21, 8, 0, tzinfo=UTC)
    result = run_import(sessions, changed, "deals", now=now)
    assert (
        result.summary() == "deals: 0 created, 1 updated, 3 unchanged; 1 stage change(s) recorded"
    )
    with sessions() as session:
        deal = session.scalars(select(Deal).where(Deal.external_id == "D-1")).one()
        last = session.scalars(
            select(DealStageChange)
            .where(DealStageChange.deal_id == deal.id)
            .order_by(DealStageChange.entered_at.desc())
        ).first()
    assert (deal.stage, deal.outcome) == ("Closed Won", Outcome.WON)
    assert deal.closed_at == datetime(2026, 3, 20, 12, tzinfo=UTC)
    assert last is not None and (last.stage, last.entered_at) == ("Closed Won", deal.closed_at)
    again = run_import(sessions, changed, "deals", now=now)
    assert (again.updated, again.unchanged, again.stage_changes) == (0, 4, 0)


def test_leads_activities_quotas_and_forecasts_are_linked_and_parsed(
    sessions: sessionmaker[Session],
) -> None:
    load_all(sessions)
    with sessions() as session:
        reps = {r.id: r.email for r in session.scalars(select(Rep))}
        leads = {x.external_id: x for x in session.scalars(select(Lead))}
        acts = {a.external_id: a for a in session.scalars(select(Activity))}
        deals = {d.id: d.external_id for d in session.scalars(select(Deal))}
        quotas = {
            reps[q.rep_id]: (q.period_start, q.period_end, q.amount)
            for q in session.scalars(select(Quota))
        }
        forecasts = sorted((f.category, f.amount) for f in session.scalars(select(Forecast)))
    l1, l2, l3 = leads["L-1"], leads["L-2"], leads["L-3"]
    assert (l1.status, l1.first_response_at) == (
        LeadStatus.RESPONDED,
        datetime(2026, 3, 2, 14, 4, tzinfo=UTC),
    )
    assert reps[l1.responded_by_id] == "ada@example.com"
    assert l1.sla_due_at is None
    assert (l2.status, l2.created_at) == (LeadStatus.OPEN, datetime(2026, 3, 2, 9, 15, tzinfo=UTC))
    assert l3.owner_id is None
    assert (acts["A-1"].type, deals[acts["A-1"].deal_id], acts["A-1"].external_attendee) == (
        ActivityType.CALL,
        "D-1",
        True,
    )
    assert acts["A-2"].type == ActivityType.MEETING
    assert acts["A-3"].lead_id == l1.id
    assert (acts["A-4"].external_attendee, acts["A-4"].minutes) == (False, 30.0)
    q1 = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert quotas == {"ada@example.com": (*q1, 50000.0), "alan@example.com": (*q1, 40000.0)}
    assert forecasts == [("best_case", 45000.0), ("commit", 30000.0)]


def test_crlf_line_endings_and_a_bom_import_like_lf(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    load_reps(sessions)
    text = "\ufeff" + fixture_text("leads.csv").replace("\n", "\r\n")
    result = run_import(sessions, write(tmp_path, "leads.csv", text), "leads")
    assert (result.created, result.unchanged) == (3, 0)
    again = run_import(sessions, FIXTURES / "leads.csv", "leads")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_create_missing_creates_unknown_owners_as_reps(
    sessions: sessionmaker[Session],
) -> None:
    result = run_import(sessions, FIXTURES / "quotas.csv", "quotas", create_missing=True)
    assert result.summary() == "quotas: 2 created, 0 updated, 0 unchanged; 2 rep(s) created"
    with sessions() as session:
        reps = sorted((r.name, r.email) for r in session.scalars(select(Rep)))
    assert reps == [("Ada", "ada@example.com"), ("Alan Turing", None)]


def test_reps_reimport_with_a_new_team_updates_and_keeps_the_rest(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    load_reps(sessions)
    moved = fixture_text("reps.csv").replace(
        "Alan Turing,alan@example.com,East,", "Alan Turing,alan@example.com,North,"
    )
    result = run_import(sessions, write(tmp_path, "reps.csv", moved), "reps")
    assert result.summary() == "reps: 0 created, 1 updated, 5 unchanged"
    assert result.warnings == ["1 team(s) created"]
    with sessions() as session:
        alan = session.scalars(select(Rep).where(Rep.email == "alan@example.com")).one()
        team = session.get(Team, alan.team_id)
    assert team is not None and (team.name, team.region) == ("North", "AMER")


def test_reps_file_errors_name_line_and_column_and_write_nothing(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    text = fixture_text("reps.csv")
    text = text.replace("Linus Pauling,linus@example.com", "Linus Pauling,ada@example.com")
    text = text.replace(",Marie Curie,EMEA,rep", ",Pierre Curie,EMEA,chief")
    text = text.replace("Europe/Paris,true", "Mars/Olympus,true")
    before = counts(sessions)
    with pytest.raises(ImportFailed) as failed:
        run_import(sessions, write(tmp_path, "reps.csv", text), "reps")
    assert counts(sessions) == before
    assert [str(e) for e in failed.value.errors] == [
        "reps.csv line 4, column timezone: unknown time zone 'Mars/Olympus'; use an IANA name "
        "such as Europe/Berlin",
        "reps.csv line 4, column role: unknown role 'chief'; use rep, manager or admin",
        "reps.csv line 4, column email: duplicate email 'ada@example.com', also on line 2",
        "reps.csv line 4, column manager: unknown manager 'Pierre Curie'; list them in this "
        "file, import them first, or pass --create-missing to create them",
    ]


def test_reimport_keeps_a_routed_owner_and_a_recorded_response_of_a_lead(
    sessions: sessionmaker[Session],
) -> None:
    load_reps(sessions)
    run_import(sessions, FIXTURES / "leads.csv", "leads")
    answered = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
    with sessions.begin() as session:
        grace = session.scalars(select(Rep).where(Rep.email == "grace@example.com")).one()
        lead = session.scalars(select(Lead).where(Lead.external_id == "L-3")).one()
        lead.owner_id, lead.first_response_at = grace.id, answered
        lead.responded_by_id, lead.status = grace.id, LeadStatus.RESPONDED
    again = run_import(sessions, FIXTURES / "leads.csv", "leads")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    with sessions() as session:
        lead = session.scalars(select(Lead).where(Lead.external_id == "L-3")).one()
    assert (lead.owner_id, lead.first_response_at, lead.status) == (
        grace.id,
        answered,
        LeadStatus.RESPONDED,
    )


def test_reimported_activities_that_gain_a_deal_link_are_updated(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """Stored links all NULL, new ones partly set: compared as numbers, not a crash."""
    load_reps(sessions)
    run_import(sessions, FIXTURES / "deals.csv", "deals", stage_map_file=STAGES)
    header = "external_id,owner,type,started_at,minutes,deal_external_id\n"
    first = tmp_path / "first.csv"
    first.write_text(header + "X-1,ada@example.com,call,2026-03-02,10,\n"
                     "X-2,ada@example.com,call,2026-03-03,5,\n")  # fmt: skip
    run_import(sessions, first, "activities")
    second = tmp_path / "second.csv"
    second.write_text(header + "X-1,ada@example.com,call,2026-03-02,10,D-1\n"
                      "X-2,ada@example.com,call,2026-03-03,5,\n")  # fmt: skip
    result = run_import(sessions, second, "activities")
    assert (result.updated, result.unchanged) == (1, 1)
