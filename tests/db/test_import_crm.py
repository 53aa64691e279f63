"""CRM exports: the real Salesforce sample, a HubSpot deals export, and `--map` alone."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.db.models import (
    Activity,
    ActivityType,
    Deal,
    DealStageChange,
    Lead,
    Outcome,
    Rep,
    Stage,
)
from tests.support.import_helpers import FIXTURES, SALESFORCE, counts, load_reps, run_import

SF = {"format": "salesforce"}
OWNERS = FIXTURES / "sf_owners.csv"
SF_USER = "005Ec000004oBPNIA2"


def test_salesforce_opportunities_all_load_with_an_owners_file_and_reload_unchanged(
    sessions: sessionmaker[Session],
) -> None:
    load_reps(sessions)
    first = run_import(sessions, SALESFORCE / "Opportunity.csv", "deals", owners_file=OWNERS, **SF)
    assert (first.created, first.updated, first.unchanged, first.stage_changes) == (50, 0, 0, 50)
    assert first.warnings == [
        "stages not in the stage map (no order or default probability): Discovery, "
        "Negotiation, Proposal/Quote; add them with --stage-map"
    ]
    before = counts(sessions)
    second = run_import(sessions, SALESFORCE / "Opportunity.csv", "deals", owners_file=OWNERS, **SF)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 50)
    # the owners file stored the Salesforce user id: no owners file needed any more
    third = run_import(sessions, SALESFORCE / "Opportunity.csv", "deals", **SF)
    assert (third.created, third.updated, third.unchanged) == (0, 0, 50)
    assert counts(sessions) == before
    with sessions() as session:
        ada = session.scalars(select(Rep).where(Rep.crm_user_id == SF_USER)).one()
        outcomes = Counter(session.scalars(select(Deal.outcome)))
        won = session.scalars(select(Deal).where(Deal.external_id == "006Ec00000AieKGIAZ")).one()
        open_deal = session.scalars(
            select(Deal).where(Deal.external_id == "006Ec00000AieKFIAZ")
        ).one()
        stages = dict(session.execute(select(Stage.name, Stage.probability)).all())
        owners = set(session.scalars(select(Deal.owner_id)))
    assert ada.email == "ada@example.com"
    assert owners == {ada.id}
    assert outcomes == {Outcome.OPEN: 35, Outcome.WON: 12, Outcome.LOST: 3}
    assert (won.stage, won.amount, won.probability) == ("Closed Won", 1651993.36, 1.0)
    assert won.closed_at == datetime(2023, 6, 17, tzinfo=UTC)
    assert won.created_at == datetime(2024, 1, 22, 16, 14, 25, tzinfo=UTC)
    assert won.forecast_category == "closed"
    assert (open_deal.stage, open_deal.probability, open_deal.closed_at) == (
        "Qualification",
        0.1,
        None,
    )
    assert open_deal.expected_close == datetime(2024, 11, 10, tzinfo=UTC)
    assert open_deal.product == "Merchant Services"
    assert stages == {"Qualification": 0.1, "Closed Won": 1.0, "Closed Lost": 0.0}


def test_salesforce_leads_and_tasks_load_and_link_to_leads(
    sessions: sessionmaker[Session],
) -> None:
    load_reps(sessions)
    leads = run_import(sessions, SALESFORCE / "Lead.csv", "leads", owners_file=OWNERS, **SF)
    tasks = run_import(sessions, SALESFORCE / "Task.csv", "activities", **SF)
    assert (leads.created, tasks.created) == (60, 75)
    again = run_import(sessions, SALESFORCE / "Task.csv", "activities", **SF)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 75)
    with sessions() as session:
        types = Counter(session.scalars(select(Activity.type)))
        linked = session.scalar(select(func.count()).where(Activity.lead_id.is_not(None)))
        external = session.scalar(select(func.count()).where(Activity.external_attendee))
        lead = session.scalars(select(Lead).where(Lead.external_id == "00QEc00000BBaeXMAT")).one()
    # Type__c: Email 18, Call 17, Prep 15 (admin), Other 13, Meeting 12
    assert types == {
        ActivityType.EMAIL: 18,
        ActivityType.CALL: 17,
        ActivityType.ADMIN: 15,
        ActivityType.OTHER: 13,
        ActivityType.MEETING: 12,
    }
    assert linked == 15  # WhoIds starting 00Q that are leads of Lead.csv
    assert external == 75  # every task has a WhoId (a contact or lead)
    assert (lead.source, lead.status, lead.first_response_at) == ("Online Form", "open", None)
    assert lead.created_at == datetime(2024, 1, 22, 20, 36, 47, tzinfo=UTC)


def test_hubspot_deals_use_default_stages_and_close_date_by_outcome(
    sessions: sessionmaker[Session],
) -> None:
    load_reps(sessions)
    result = run_import(sessions, FIXTURES / "hubspot_deals.csv", "deals", format="hubspot")
    assert result.summary() == (
        "deals: 4 created, 0 updated, 0 unchanged; 4 stage(s) saved to the stage map; "
        "4 stage change(s) recorded"
    )
    again = run_import(sessions, FIXTURES / "hubspot_deals.csv", "deals", format="hubspot")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    with sessions() as session:
        deals = {d.external_id: d for d in session.scalars(select(Deal))}
        stages = {s.name: (s.sort_order, s.probability, s.outcome) for s in
                  session.scalars(select(Stage))}  # fmt: skip
        changes = session.scalar(select(func.count()).select_from(DealStageChange))
    assert (deals["9001"].stage, deals["9001"].outcome) == ("Contract Sent", Outcome.OPEN)
    assert deals["9001"].expected_close == datetime(2026, 5, 15, tzinfo=UTC)
    assert deals["9002"].stage == "Closed Won"  # internal id closedwon -> its label
    assert deals["9002"].closed_at == datetime(2026, 2, 27, 15, 40, tzinfo=UTC)
    assert deals["9002"].amount == 18000.5
    assert (deals["9003"].outcome, deals["9003"].amount) == (Outcome.LOST, None)
    assert deals["9003"].created_at == datetime(2025, 12, 15, tzinfo=UTC)
    assert deals["9004"].stage == "Appointment Scheduled"
    assert stages["Contract Sent"] == (5, 0.9, Outcome.OPEN)
    assert stages["Closed Won"] == (6, 1.0, Outcome.WON)
    assert changes == 4


def test_an_export_with_other_column_names_imports_with_map_alone(
    sessions: sessionmaker[Session],
) -> None:
    load_reps(sessions)
    column_map = {
        "external_id": "Opportunity Number",
        "name": "Title",
        "owner": "Rep Email",
        "amount": "Value",
        "stage": "Phase",
        "created_at": "Opened On",
        "closed_at": "Closed On",
        "outcome": "Result",
    }
    path = FIXTURES / "other_columns_deals.csv"
    result = run_import(sessions, path, "deals", column_map=column_map)
    assert (result.created, result.rejected) == (2, [])
    with sessions() as session:
        deals = {d.external_id: d for d in session.scalars(select(Deal))}
    assert (deals["X-100"].amount, deals["X-100"].currency) == (9500.0, "EUR")
    assert (deals["X-101"].outcome, deals["X-101"].closed_at) == (
        Outcome.WON,
        datetime(2026, 2, 20, tzinfo=UTC),
    )


def test_salesforce_users_become_reps_with_crm_ids_managers_and_inactive_flags(
    sessions: sessionmaker[Session],
) -> None:
    result = run_import(sessions, FIXTURES / "sf_users.csv", "reps", **SF)
    assert (result.created, result.warnings) == (3, ["1 team(s) created"])
    again = run_import(sessions, FIXTURES / "sf_users.csv", "reps", **SF)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    with sessions() as session:
        reps = {r.crm_user_id: r for r in session.scalars(select(Rep))}
    assert reps["005B"].manager_id == reps["005A"].id
    assert reps["005A"].role == "manager"
    assert [reps[k].active for k in ("005A", "005B", "005C")] == [True, True, False]
