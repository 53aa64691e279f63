"""Noise control without a database: quiet hours and days off in each person's own time zone
(DST included), the daily budget and its ranking, cooldown, snooze, mute; the `[nudges]`
section."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import load_settings
from salesops_core.config import NudgeConfig, NudgeRule, OrgConfig
from salesops_core.nudges.facts import Hold, Nudge
from salesops_core.nudges.people import Person
from salesops_core.nudges.policy import History, decide, next_working_start, ranked
from tests.support.nudge_org import NY_REP

NY = NY_REP
BERLIN = replace(NY, rep_id=2, name="Bea Berg", timezone="Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def nudge(
    rule: NudgeRule = NudgeRule.STALE_DEAL, subject: str = "deal:a", rep_id: int = 1
) -> Nudge:
    return Nudge(
        rule=rule, rep_id=rep_id, rep="Ann", subject=subject, fact="f", why="w", actions=()
    )


def decide_one(person: Person, now: datetime, history: History = History(), n: Nudge | None = None):  # type: ignore[no-untyped-def]
    return decide(person, [n or nudge(rep_id=person.rep_id)], history, now, daily_budget=3,
                  cooldown_days=3)[0]  # fmt: skip


# Thursday 2026-12-03, 15:00 UTC: 10:00 in New York, 16:00 in Berlin.
THURSDAY = utc(2026, 12, 3, 15)


def test_a_nudge_in_working_hours_goes_now() -> None:
    decision = decide_one(NY, THURSDAY)
    assert (decision.held, decision.until) == (None, None)


def test_quiet_hours_hold_until_the_morning_not_midnight() -> None:
    evening = utc(2026, 12, 3, 23, 30)  # 18:30 in New York
    decision = decide_one(NY, evening)
    assert decision.held == Hold.QUIET_HOURS
    assert decision.until == utc(2026, 12, 4, 14)  # Friday 09:00 EST


def test_the_same_moment_is_working_time_in_one_zone_and_quiet_in_another() -> None:
    moment = utc(2026, 12, 3, 18)  # 13:00 in New York, 19:00 in Berlin
    assert decide_one(NY, moment).held is None
    berlin = decide_one(BERLIN, moment)
    assert (berlin.held, berlin.until) == (Hold.QUIET_HOURS, utc(2026, 12, 4, 8))  # 09:00 CET


def test_early_morning_waits_for_the_same_day_nine_oclock() -> None:
    decision = decide_one(NY, utc(2026, 12, 3, 11))  # 06:00 EST
    assert (decision.held, decision.until) == (Hold.QUIET_HOURS, utc(2026, 12, 3, 14))


def test_the_weekend_holds_until_monday_morning() -> None:
    saturday = utc(2026, 12, 5, 15)
    decision = decide_one(NY, saturday)
    assert (decision.held, decision.until) == (Hold.WEEKEND, utc(2026, 12, 7, 14))


def test_friday_evening_across_the_autumn_dst_change_resumes_at_nine_local() -> None:
    # New York leaves daylight time on Sunday 2026-11-01: Friday 18:30 EDT -> Monday 09:00 EST.
    decision = decide_one(NY, utc(2026, 10, 30, 22, 30))
    assert decision.held == Hold.QUIET_HOURS
    assert decision.until == utc(2026, 11, 2, 14)


def test_friday_evening_across_the_spring_dst_change_in_berlin() -> None:
    # Berlin enters summer time on Sunday 2026-03-29: Monday 09:00 CEST is 07:00 UTC.
    decision = decide_one(BERLIN, utc(2026, 3, 27, 19))
    assert (decision.held, decision.until) == (Hold.QUIET_HOURS, utc(2026, 3, 30, 7))


def test_a_public_holiday_is_a_day_off() -> None:
    thanksgiving = utc(2026, 11, 26, 15)
    us = replace(NY, holiday_country="US")
    decision = decide_one(us, thanksgiving)
    assert (decision.held, decision.until) == (Hold.WEEKEND, utc(2026, 11, 27, 14))
    assert decide_one(NY, thanksgiving).held is None


def test_quiet_hours_inside_one_day_hold_until_they_end() -> None:
    lunch = replace(NY, quiet_start=time(12), quiet_end=time(13))
    assert next_working_start(lunch, utc(2026, 12, 3, 17, 30)) == utc(2026, 12, 3, 18)
    assert next_working_start(lunch, utc(2026, 12, 3, 15)) == utc(2026, 12, 3, 15)


def test_the_budget_lets_the_most_valuable_through_and_holds_the_rest_until_tomorrow() -> None:
    nudges = [
        nudge(NudgeRule.STALE_DEAL, "deal:big"),
        nudge(NudgeRule.STALE_DEAL, "deal:mid"),
        nudge(NudgeRule.STALE_DEAL, "deal:small"),
        nudge(NudgeRule.FEW_MEETINGS, "week:2026-W49"),
        nudge(NudgeRule.BEHIND_PACE, "period:2026-Q4"),
    ]
    decisions = decide(NY, nudges, History(), THURSDAY, daily_budget=3, cooldown_days=3)
    due = [d.nudge.subject for d in decisions if d.held is None]
    assert due == ["deal:big", "period:2026-Q4", "week:2026-W49"]  # one of each kind first
    held = [d for d in decisions if d.held is not None]
    assert [d.nudge.subject for d in held] == ["deal:mid", "deal:small"]
    assert {(d.held, d.until) for d in held} == {(Hold.BUDGET, utc(2026, 12, 4, 14))}


def test_what_was_sent_today_counts_against_the_budget() -> None:
    nudges = [nudge(subject=f"deal:{i}") for i in range(3)]
    earlier = frozenset({(NudgeRule.FEW_MEETINGS, "week:2026-W49"), (NudgeRule.BEHIND_PACE, "q")})
    decisions = decide(NY, nudges, History(sent_today=earlier), THURSDAY, daily_budget=3,
                       cooldown_days=3)  # fmt: skip
    assert [d.held for d in decisions] == [None, Hold.BUDGET, Hold.BUDGET]


def test_a_nudge_sent_earlier_today_is_already_sent_not_cooling_down() -> None:
    key = (NudgeRule.STALE_DEAL, "deal:a")
    history = History(last_sent={key: THURSDAY - timedelta(hours=1)}, sent_today=frozenset({key}))
    decision = decide_one(NY, THURSDAY, history)
    # sent Thursday 14:00 UTC: the cooldown ends Sunday 14:00 UTC, a day off, so Monday 09:00
    assert (decision.held, decision.until) == (Hold.ALREADY_SENT, utc(2026, 12, 7, 14))
    no_cooldown = decide(NY, [nudge()], history, THURSDAY, daily_budget=3, cooldown_days=0)
    assert [(d.held, d.until) for d in no_cooldown] == [(Hold.ALREADY_SENT, utc(2026, 12, 4, 14))]


def test_ranking_keeps_each_rules_own_order() -> None:
    nudges = [nudge(NudgeRule.PAST_CLOSE, "deals:past-close"), nudge(subject="deal:1"),
              nudge(subject="deal:2"), nudge(NudgeRule.NO_FORECAST, "period:2027-Q1")]  # fmt: skip
    assert [n.subject for n in ranked(nudges)] == [
        "period:2027-Q1", "deal:1", "deals:past-close", "deal:2",
    ]  # fmt: skip


def test_cooldown_holds_the_same_rule_and_subject_until_it_has_passed() -> None:
    key = (NudgeRule.STALE_DEAL, "deal:a")
    recent = History(last_sent={key: THURSDAY - timedelta(days=1)})
    decision = decide_one(NY, THURSDAY, recent)
    # sent Wednesday 15:00 UTC: three days later is Saturday, so Monday 09:00
    assert (decision.held, decision.until) == (Hold.COOLDOWN, utc(2026, 12, 7, 14))
    assert (
        decide_one(NY, THURSDAY, History(last_sent={key: THURSDAY - timedelta(days=3)})).held
        is None
    )
    other_subject = nudge(subject="deal:b")
    assert decide_one(NY, THURSDAY, recent, other_subject).held is None


def test_a_snoozed_nudge_waits_for_its_snooze() -> None:
    key = (NudgeRule.STALE_DEAL, "deal:a")
    history = History(snoozed_until={key: THURSDAY + timedelta(hours=2)})
    decision = decide_one(NY, THURSDAY, history)
    assert (decision.held, decision.until) == (Hold.SNOOZED, THURSDAY + timedelta(hours=2))
    assert decide_one(NY, THURSDAY + timedelta(hours=3), history).held is None


def test_not_relevant_and_rules_off_mute() -> None:
    muted = History(muted=frozenset({(NudgeRule.STALE_DEAL, "deal:a")}))
    assert decide_one(NY, THURSDAY, muted).held == Hold.MUTED
    assert decide_one(NY, THURSDAY, muted, nudge(subject="deal:b")).held is None
    off = replace(NY, rules_off=frozenset({NudgeRule.STALE_DEAL}))
    assert decide_one(off, THURSDAY).held == Hold.MUTED
    assert decide_one(off, THURSDAY, n=nudge(NudgeRule.PAST_CLOSE, "deals:past-close")).held is None


def test_nudge_config_validates_rules_and_quiet_hours() -> None:
    assert NudgeConfig().rules == list(NudgeRule)
    with pytest.raises(ValidationError, match="stale_deal"):
        NudgeConfig(rules=["stale_deal", "bogus"])
    with pytest.raises(ValidationError, match="18:00-09:00"):
        NudgeConfig(quiet_hours="evenings")
    with pytest.raises(ValidationError, match="different"):
        NudgeConfig(quiet_hours="09:00-09:00")


def test_the_stale_threshold_is_the_orgs_unless_nudges_set_their_own() -> None:
    org = OrgConfig(stale_deal_days=21)
    assert NudgeConfig().stale_days(org) == 21
    assert NudgeConfig(stale_deal_days=10).stale_days(org) == 10


def test_the_nudges_section_is_read_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "salesops.toml"
    path.write_text(
        '[nudges]\ndaily_budget = 2\nquiet_hours = "19:00-08:30"\nrules = ["past_close"]\n'
    )
    nudges = load_settings(path).nudges
    assert (nudges.daily_budget, nudges.quiet_hours, nudges.rules) == (
        2, "19:00-08:30", [NudgeRule.PAST_CLOSE],
    )  # fmt: skip
