"""Every nudge rule, positive and negative, over a small hand-built org; the evaluation is a
fixed handful of queries whatever the size of the org.

Org time zone UTC, people in New York. Now: Thursday 2026-12-03 15:00 UTC (10:00 in New York),
69% of 2026-Q4 gone; the coming quarter 2027-Q1 starts Friday 2027-01-01.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from salesops_core.config import NudgeConfig, NudgeRule, OrgConfig
from salesops_core.db.models import (
    Activity,
    ActivityType,
    Deal,
    Forecast,
    Outcome,
    Quota,
    Rep,
    Role,
)
from salesops_core.nudges import log
from salesops_core.nudges.facts import Nudge
from salesops_core.nudges.service import evaluate

ORG = OrgConfig(timezone="UTC", stale_deal_days=14)
CONFIG = NudgeConfig()
NOW = datetime(2026, 12, 3, 15, tzinfo=UTC)
Q4 = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
Q1 = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC))
_ids = count(1)


@dataclass
class Org:
    session: Session

    def rep(self, name: str, role: Role = Role.REP, **fields: object) -> Rep:
        rep = Rep(
            name=name,
            email=f"{name.split()[0].lower()}@example.com",
            role=role,
            slack_user_id=f"U{next(_ids):05d}",
            timezone="America/New_York",
            **fields,
        )
        self.session.add(rep)
        self.session.flush()
        return rep

    def deal(self, owner: Rep, name: str, amount: float | None, *, created_days_ago: float = 60,
             expected_close: datetime | None = None, closed: bool = False) -> Deal:  # fmt: skip
        deal = Deal(
            external_id=f"D-{next(_ids)}",
            name=name,
            owner_id=owner.id,
            amount=amount,
            stage="Proposal",
            created_at=NOW - timedelta(days=created_days_ago),
            expected_close=expected_close or NOW + timedelta(days=30),
            closed_at=NOW - timedelta(days=1) if closed else None,
            outcome=Outcome.WON if closed else Outcome.OPEN,
        )
        self.session.add(deal)
        self.session.flush()
        return deal

    def activity(self, rep: Rep, *, days_ago: float, kind: ActivityType = ActivityType.CALL,
                 minutes: float | None = 30, deal: Deal | None = None,
                 external: bool = False) -> None:  # fmt: skip
        self.session.add(
            Activity(
                external_id=f"A-{next(_ids)}",
                rep_id=rep.id,
                type=kind,
                started_at=NOW - timedelta(days=days_ago),
                minutes=minutes,
                deal_id=deal.id if deal else None,
                external_attendee=external,
            )
        )
        self.session.flush()

    def quota(self, rep: Rep, amount: float, period: tuple[datetime, datetime] = Q4) -> None:
        self.session.add(Quota(rep_id=rep.id, period_start=period[0], period_end=period[1],
                               amount=amount))  # fmt: skip
        self.session.flush()

    def won(self, rep: Rep, amount: float) -> None:
        self.deal(rep, "won", amount, closed=True)


@pytest.fixture
def org(session: Session) -> Org:
    return Org(session)


def found(session: Session, rule: NudgeRule, now: datetime = NOW, config: NudgeConfig = CONFIG,
          rep_id: int | None = None) -> list[Nudge]:  # fmt: skip
    evaluation = evaluate(session, config, ORG, now, rep_id=rep_id)
    return [d.nudge for d in evaluation.decisions if d.nudge.rule == rule]


# --- stale_deal ---------------------------------------------------------------------------


def test_a_deal_quiet_for_longer_than_the_threshold_is_named_with_its_amount(org: Org) -> None:
    ann = org.rep("Ann Archer")
    deal = org.deal(ann, "Acme renewal", 48_000)
    org.activity(ann, days_ago=19, deal=deal)
    busy = org.deal(ann, "Busy deal", 90_000)
    org.activity(ann, days_ago=3, deal=busy)
    [nudge] = found(org.session, NudgeRule.STALE_DEAL)
    assert nudge.fact == "Acme renewal ($48,000) has had no activity for 19 days"
    assert (nudge.rep_id, nudge.subject, nudge.deal_id) == (ann.id, f"deal:{deal.external_id}",
                                                            deal.id)  # fmt: skip


def test_closed_deals_and_young_deals_are_not_stale(org: Org) -> None:
    ann = org.rep("Ann Archer")
    org.deal(ann, "Won long ago", 10_000, closed=True, created_days_ago=90)
    org.deal(ann, "New deal", 10_000, created_days_ago=5)  # no activity, but only 5 days old
    assert found(org.session, NudgeRule.STALE_DEAL) == []


def test_each_person_hears_of_their_biggest_quiet_deals_only(org: Org) -> None:
    ann = org.rep("Ann Archer")
    for amount in (5_000, 80_000, None, 20_000, 60_000):
        org.deal(ann, f"deal {amount}", amount)
    names = [
        n.fact.split(" (")[0].split(" has")[0] for n in found(org.session, NudgeRule.STALE_DEAL)
    ]
    assert names == ["deal 80000", "deal 60000", "deal 20000"]


def test_nudges_may_set_their_own_stale_threshold_else_the_orgs(org: Org) -> None:
    ann = org.rep("Ann Archer")
    deal = org.deal(ann, "Acme", 1_000)
    org.activity(ann, days_ago=10, deal=deal)
    assert found(org.session, NudgeRule.STALE_DEAL) == []  # the org's 14 days
    stricter = NudgeConfig(stale_deal_days=7)
    assert len(found(org.session, NudgeRule.STALE_DEAL, config=stricter)) == 1


# --- past_close ---------------------------------------------------------------------------


def test_past_close_is_one_nudge_with_the_count_and_the_biggest(org: Org) -> None:
    ann = org.rep("Ann Archer")
    for name, amount in (("Small", 1_000), ("Globex expansion", 75_000), ("Mid", 9_000)):
        deal = org.deal(ann, name, amount, expected_close=datetime(2026, 11, 14, tzinfo=UTC))
        org.activity(ann, days_ago=1, deal=deal)  # active: past close, not quiet
    future = org.deal(ann, "Future", 99_000, expected_close=NOW + timedelta(days=5))
    org.activity(ann, days_ago=1, deal=future)
    [nudge] = found(org.session, NudgeRule.PAST_CLOSE)
    assert nudge.fact == (
        "3 deals are past their expected close; the biggest, Globex expansion ($75,000), "
        "was due Nov 14"
    )
    assert found(org.session, NudgeRule.STALE_DEAL) == []


def test_past_close_names_a_late_deal_the_quiet_deal_nudges_do_not(org: Org) -> None:
    ann = org.rep("Ann Archer")
    late = datetime(2026, 11, 14, tzinfo=UTC)
    org.deal(ann, "Quiet and late", 90_000, expected_close=late)
    active = org.deal(ann, "Active and late", 5_000, expected_close=late)
    org.activity(ann, days_ago=1, deal=active)
    [past] = found(org.session, NudgeRule.PAST_CLOSE)
    assert past.fact == (
        "2 deals are past their expected close, among them Active and late ($5,000), due Nov 14"
    )
    [quiet] = found(org.session, NudgeRule.STALE_DEAL)
    assert quiet.fact.startswith("Quiet and late ($90,000)")


def test_past_close_skips_every_deal_the_stale_deal_nudges_name_even_quiet_ones(org: Org) -> None:
    ann = org.rep("Ann Archer")
    late = datetime(2026, 11, 14, tzinfo=UTC)
    for amount in (90_000, 50_000, 30_000, 10_000):  # all quiet and late; the top three named
        org.deal(ann, f"Late {amount}", amount, expected_close=late)
    evaluation = evaluate(org.session, CONFIG, ORG, NOW)
    [past] = [d.nudge for d in evaluation.decisions if d.nudge.rule == NudgeRule.PAST_CLOSE]
    assert past.fact == (
        "4 deals are past their expected close, among them Late 10000 ($10,000), due Nov 14"
    )
    deal_ids = [d.nudge.deal_id for d in evaluation.decisions if d.nudge.deal_id is not None]
    assert len(deal_ids) == len(set(deal_ids)) == 4  # no deal in two nudges


def test_past_close_says_only_the_count_when_every_late_deal_is_named_as_stale(org: Org) -> None:
    ann = org.rep("Ann Archer")
    late = datetime(2026, 11, 14, tzinfo=UTC)
    for amount in (90_000, 50_000):
        org.deal(ann, f"Late {amount}", amount, expected_close=late)
    [past] = found(org.session, NudgeRule.PAST_CLOSE)
    assert past.fact == "2 deals are past their expected close"
    assert (past.deal_id, past.crm_url, past.value) == (None, None, 2)


def test_past_close_skips_a_deal_a_stale_deal_nudge_named_earlier_today(org: Org) -> None:
    ann = org.rep("Ann Archer")
    org.deal(ann, "Big and quiet", 90_000)  # today's one stale_deal nudge from now on
    named = org.deal(
        ann, "Late and quiet", 50_000, expected_close=datetime(2026, 11, 14, tzinfo=UTC)
    )
    one = NudgeConfig(stale_deals_per_person=1)
    [past] = found(org.session, NudgeRule.PAST_CLOSE, config=one)
    assert past.fact == "Late and quiet ($50,000) is past its expected close (Nov 14)"
    earlier = NOW - timedelta(hours=2)  # before the bigger deal went quiet it was the named one
    log.record_send(org.session, ann.id, NudgeRule.STALE_DEAL, f"deal:{named.external_id}",
                    earlier.date(), earlier)  # fmt: skip
    [past] = found(org.session, NudgeRule.PAST_CLOSE, config=one)
    assert past.fact == "1 deal is past its expected close"


def test_no_past_close_nudge_when_every_close_date_is_ahead(org: Org) -> None:
    ann = org.rep("Ann Archer")
    deal = org.deal(ann, "Future", 99_000, expected_close=NOW + timedelta(days=5))
    org.activity(ann, days_ago=1, deal=deal)
    assert found(org.session, NudgeRule.PAST_CLOSE) == []


# --- no_forecast --------------------------------------------------------------------------

# 2027-Q1 starts Friday 2027-01-01; five days before is Sunday, so the commit is due Friday
# 2026-12-25; reminders start seven days before, on 2026-12-18.
BEFORE_DUE = datetime(2026, 12, 21, 15, tzinfo=UTC)  # a Monday


def test_no_commit_forecast_for_the_coming_quarter_is_nudged_before_it_is_due(org: Org) -> None:
    ann = org.rep("Ann Archer")
    org.quota(ann, 100_000)
    [nudge] = found(org.session, NudgeRule.NO_FORECAST, now=BEFORE_DUE)
    assert nudge.fact == "No commit forecast for 2027-Q1 yet, due Friday"
    assert nudge.subject == "period:2027-Q1"


def test_no_forecast_nudge_after_submitting_too_early_or_without_a_quota(org: Org) -> None:
    ann, bob = org.rep("Ann Archer"), org.rep("Bob Baker")
    org.rep("Cat Cole")  # no quota this quarter or the next: not asked for a forecast
    org.quota(ann, 100_000)
    org.quota(bob, 100_000, Q1)
    submitted = BEFORE_DUE - timedelta(days=1)
    org.session.add(
        Forecast(rep_id=ann.id, period_start=Q1[0], period_end=Q1[1], amount=90_000,
                 category="commit", submitted_at=submitted)
    )  # fmt: skip
    org.session.flush()
    assert [n.rep_id for n in found(org.session, NudgeRule.NO_FORECAST, now=BEFORE_DUE)] == [bob.id]
    assert found(org.session, NudgeRule.NO_FORECAST, now=NOW) == []  # too early to ask


# --- few_meetings -------------------------------------------------------------------------


def test_few_prospect_meetings_this_week_from_mid_week_on(org: Org) -> None:
    ann = org.rep("Ann Archer")
    org.activity(ann, days_ago=1, kind=ActivityType.MEETING, external=True)
    org.activity(ann, days_ago=2, kind=ActivityType.DEMO, external=True)
    org.activity(ann, days_ago=1, kind=ActivityType.MEETING, external=False)  # internal
    [nudge] = found(org.session, NudgeRule.FEW_MEETINGS)
    assert nudge.fact == "2 prospect meetings this week; your target is 5"
    assert nudge.subject == "week:2026-W49"
    tuesday = NOW - timedelta(days=2)
    assert found(org.session, NudgeRule.FEW_MEETINGS, now=tuesday) == []


def test_meetings_on_target_including_booked_ones_are_not_nudged(org: Org) -> None:
    ann = org.rep("Ann Archer")
    for days_ago in (1, 2, 3, -1, -2):  # two still to come this week
        org.activity(ann, days_ago=days_ago, kind=ActivityType.MEETING, external=True)
    assert found(org.session, NudgeRule.FEW_MEETINGS) == []


# --- behind_pace --------------------------------------------------------------------------


def test_behind_pace_by_more_than_the_margin(org: Org) -> None:
    ann = org.rep("Ann Archer")
    org.quota(ann, 100_000)
    org.won(ann, 41_000)
    [nudge] = found(org.session, NudgeRule.BEHIND_PACE)
    assert nudge.fact == "You are at 41% of quota with 69% of the quarter gone"
    assert nudge.why == "At this pace you finish at 59% of quota; $59,000 still to win."


def test_within_the_margin_or_without_a_quota_is_not_behind_pace(org: Org) -> None:
    ann, bob = org.rep("Ann Archer"), org.rep("Bob Baker")
    org.quota(ann, 100_000)
    org.won(ann, 62_000)  # 7 points behind: inside the 10-point margin
    org.won(bob, 1_000)  # no quota
    assert found(org.session, NudgeRule.BEHIND_PACE) == []


# --- low_selling_time ---------------------------------------------------------------------


def test_low_selling_time_once_enough_minutes_are_logged(org: Org) -> None:
    ann, bob = org.rep("Ann Archer"), org.rep("Bob Baker")
    org.activity(ann, days_ago=5, kind=ActivityType.CALL, minutes=140)
    org.activity(ann, days_ago=5, kind=ActivityType.ADMIN, minutes=560)
    org.activity(bob, days_ago=5, kind=ActivityType.CALL, minutes=50)  # 300 min: too few to judge
    org.activity(bob, days_ago=5, kind=ActivityType.ADMIN, minutes=250)
    [nudge] = found(org.session, NudgeRule.LOW_SELLING_TIME)
    assert (nudge.rep_id, nudge.subject) == (ann.id, "period:2026-Q4")
    assert nudge.fact == "Selling was 20% of your logged time this quarter; your target is 35%"


def test_enough_selling_time_is_not_nudged(org: Org) -> None:
    ann = org.rep("Ann Archer")
    org.activity(ann, days_ago=5, kind=ActivityType.CALL, minutes=400)
    org.activity(ann, days_ago=5, kind=ActivityType.ADMIN, minutes=400)
    assert found(org.session, NudgeRule.LOW_SELLING_TIME) == []


# --- who ----------------------------------------------------------------------------------


def test_a_manager_hears_only_the_rules_that_apply_to_them(org: Org) -> None:
    boss = org.rep("Mia Manager", role=Role.MANAGER)
    deal = org.deal(boss, "Boss deal", 30_000)  # a deal they own: theirs to act on
    org.activity(boss, days_ago=1, kind=ActivityType.ADMIN, minutes=900)
    rules = {d.nudge.rule for d in evaluate(org.session, CONFIG, ORG, NOW).decisions}
    assert rules == {NudgeRule.STALE_DEAL}  # no quota: no meetings, selling time or pace
    assert deal.id in {d.nudge.deal_id for d in evaluate(org.session, CONFIG, ORG, NOW).decisions}
    org.quota(boss, 100_000)
    rules = {d.nudge.rule for d in evaluate(org.session, CONFIG, ORG, NOW).decisions}
    assert rules == {NudgeRule.STALE_DEAL, NudgeRule.FEW_MEETINGS, NudgeRule.BEHIND_PACE,
                     NudgeRule.LOW_SELLING_TIME}  # fmt: skip


def test_people_who_left_or_are_away_hear_nothing(org: Org) -> None:
    for rep in (org.rep("Gone Rep", active=False), org.rep("Away Rep", away=True)):
        org.deal(rep, "Quiet", 10_000)
    assert evaluate(org.session, CONFIG, ORG, NOW).decisions == []


def test_rules_left_out_of_the_config_are_not_evaluated(org: Org) -> None:
    ann = org.rep("Ann Archer")
    org.deal(ann, "Quiet", 10_000, expected_close=datetime(2026, 11, 1, tzinfo=UTC))
    only_past = NudgeConfig(rules=["past_close"])
    rules = {d.nudge.rule for d in evaluate(org.session, only_past, ORG, NOW).decisions}
    assert rules == {NudgeRule.PAST_CLOSE}


def test_one_persons_evaluation_reads_only_their_nudges(org: Org) -> None:
    ann, bob = org.rep("Ann Archer"), org.rep("Bob Baker")
    org.deal(ann, "Ann's", 10_000)
    org.deal(bob, "Bob's", 10_000)
    assert {n.rep_id for n in found(org.session, NudgeRule.STALE_DEAL, rep_id=bob.id)} == {bob.id}


# --- a handful of queries -----------------------------------------------------------------


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def listener(*args: object) -> None:
        seen.append(str(args[2])[:60])

    event.listen(engine, "before_cursor_execute", listener)
    yield seen
    event.remove(engine, "before_cursor_execute", listener)


def _busy_org(org: Org, people: int) -> None:
    for _ in range(people):
        i = next(_ids)
        rep = org.rep(f"Rep{i} Person{i}")
        org.quota(rep, 100_000)
        org.won(rep, 1_000)
        for amount in (10_000, 20_000, 30_000, 40_000):
            deal = org.deal(rep, f"deal {i}-{amount}", amount,
                            expected_close=datetime(2026, 11, 1, tzinfo=UTC))  # fmt: skip
            org.activity(rep, days_ago=30, deal=deal, kind=ActivityType.ADMIN, minutes=400)


def test_evaluation_is_a_fixed_number_of_queries_whatever_the_org_size(
    org: Org, statements: list[str]
) -> None:
    thursday = datetime(2026, 12, 24, 15, tzinfo=UTC)  # every rule applies
    _busy_org(org, 3)
    statements.clear()
    small = evaluate(org.session, CONFIG, ORG, thursday)
    few = len(statements)
    _busy_org(org, 30)
    statements.clear()
    large = evaluate(org.session, CONFIG, ORG, thursday)
    assert len(statements) == few <= 12
    assert len(large.decisions) > 10 * len(small.decisions) - 1
    assert {d.nudge.rule for d in large.decisions} == set(NudgeRule)
