"""The nudge log: sending once per (rule, subject, person, day), who may press the buttons,
snooze and mute in the next evaluation, acted-on by a button or by the fact changing, the
per-rule stats, the digest's held nudges, and `salesops nudges` through the real CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bot.cli.main import app
from salesops_core.config import NudgeConfig, NudgeRule
from salesops_core.db.models import Activity, ActivityType, NudgeLog, Outbox, Role
from salesops_core.errors import NotAllowed
from salesops_core.nudges import log
from salesops_core.nudges.facts import Action, Hold, NudgeNotice
from salesops_core.nudges.rollup import rollup_key
from salesops_core.nudges.sent import nudge_for_actor
from salesops_core.nudges.service import enqueue_due, evaluate, held_for_digest
from salesops_core.org.access import viewer_for_rep
from salesops_core.outbox import read_notice
from tests.db.test_nudge_rules import NOW, ORG, Org

CONFIG = NudgeConfig(rules=["stale_deal"])  # one rule, so each quiet deal is one nudge


@pytest.fixture
def org(session: Session) -> Org:
    return Org(session)


def _quiet_deals(org: Org, owner_name: str = "Ann Archer", n: int = 1):  # type: ignore[no-untyped-def]
    rep = org.rep(owner_name)
    deals = [org.deal(rep, f"Deal {i}", 10_000 * (i + 1)) for i in range(n)]
    return rep, deals


def _send(session: Session, now=NOW, config: NudgeConfig = CONFIG):  # type: ignore[no-untyped-def]
    counts = enqueue_due(session, evaluate(session, config, ORG, now), now)
    session.flush()
    return counts


def _send_the_one_nudge(session: Session) -> int:
    """Send what is due (one nudge); the id of its log row."""
    _send(session)
    return session.scalars(select(NudgeLog.id)).one()


def test_due_nudges_go_to_the_outbox_once_per_subject_and_day(org: Org) -> None:
    ann, [deal] = _quiet_deals(org)
    first = _send(org.session)
    assert (first.sent, first.already_sent) == (1, 0)
    row = org.session.scalars(select(Outbox)).one()
    assert row.channel == ann.slack_user_id
    assert row.dedupe_key == f"nudge:{ann.id}:stale_deal:deal:{deal.external_id}:2026-12-03"
    notice = read_notice(NudgeNotice, row.payload)
    logged = org.session.get(NudgeLog, notice.log_id)
    assert logged is not None and (logged.rule, logged.dedupe_key) == ("stale_deal", row.dedupe_key)
    again = _send(org.session)  # the same moment: already sent today, not a cooldown
    assert (again.sent, again.already_sent, again.held) == (0, 1, {})
    assert _send(org.session, NOW + timedelta(days=1)).held == {"cooldown": 1}
    no_cooldown = CONFIG.model_copy(update={"cooldown_days": 0})
    assert _send(org.session, NOW + timedelta(hours=1), no_cooldown).already_sent == 1
    assert org.session.scalar(select(func.count()).select_from(Outbox)) == 1


def test_only_the_owner_their_manager_or_an_admin_may_act_on_a_nudge(org: Org) -> None:
    mia = org.rep("Mia Manager", Role.MANAGER)
    ann, _ = _quiet_deals(org)
    ann.manager_id = mia.id
    bob, ada = org.rep("Bob Baker"), org.rep("Ada Admin", Role.ADMIN)
    log_id = _send_the_one_nudge(org.session)
    with pytest.raises(NotAllowed, match="this nudge is Ann Archer's: only they, their manager"):
        nudge_for_actor(org.session, log_id, viewer_for_rep(bob))
    for allowed in (ann, mia, ada):
        assert nudge_for_actor(org.session, log_id, viewer_for_rep(allowed)).nudge.rep_id == ann.id


def test_a_doing_button_within_24_hours_counts_as_acted_on(org: Org) -> None:
    ann, _ = _quiet_deals(org)
    log_id = _send_the_one_nudge(org.session)
    row = log.record_action(
        org.session, log_id, Action.LOG_ACTIVITY, ann.id, NOW + timedelta(hours=2)
    )
    assert (row.acted_how, row.acted_by_id) == ("log_activity", ann.id)
    assert row.acted_on_at == NOW + timedelta(hours=2)


def test_a_button_a_day_later_is_recorded_but_not_acted_on(org: Org) -> None:
    ann, _ = _quiet_deals(org)
    log_id = _send_the_one_nudge(org.session)
    row = log.record_action(
        org.session, log_id, Action.LOG_ACTIVITY, ann.id, NOW + timedelta(hours=25)
    )
    assert (row.action, row.acted_on_at) == ("log_activity", None)


def test_snooze_holds_the_nudge_past_its_cooldown(org: Org) -> None:
    ann, _ = _quiet_deals(org)
    log_id = _send_the_one_nudge(org.session)
    log.record_action(org.session, log_id, Action.SNOOZE_WEEK, ann.id, NOW)
    later = NOW + timedelta(days=4)  # the cooldown is over; the snooze is not
    [decision] = evaluate(org.session, CONFIG, ORG, later).decisions
    assert (decision.held, decision.until) == (Hold.SNOOZED, NOW + timedelta(days=7))
    assert log.rule_stats(org.session, NOW - timedelta(days=1), NOW)[0].snoozed == 1


def test_not_relevant_mutes_that_subject_for_that_rule(org: Org) -> None:
    ann, [small, big] = _quiet_deals(org, n=2)
    _send(org.session)
    muted = org.session.scalars(
        select(NudgeLog).where(NudgeLog.subject == f"deal:{big.external_id}")
    ).one()
    log.record_action(org.session, muted.id, Action.NOT_RELEVANT, ann.id, NOW)
    later = evaluate(org.session, CONFIG, ORG, NOW + timedelta(days=4)).decisions
    held = {d.nudge.subject: d.held for d in later}
    assert held == {f"deal:{big.external_id}": Hold.MUTED, f"deal:{small.external_id}": None}


def test_a_fact_that_changed_within_24_hours_counts_as_acted_on(org: Org) -> None:
    ann, [deal] = _quiet_deals(org)
    _send(org.session)
    call = NOW + timedelta(hours=1)
    org.session.add(Activity(external_id="A-fix", rep_id=ann.id, type=ActivityType.CALL,
                             started_at=call, minutes=10, deal_id=deal.id))  # fmt: skip
    org.session.flush()
    counts = _send(org.session, NOW + timedelta(hours=3))
    assert counts.fact_changed == 1
    row = org.session.scalars(select(NudgeLog)).one()
    assert (row.acted_how, row.acted_on_at) == ("fact_changed", NOW + timedelta(hours=3))
    a_day_on = NOW + timedelta(days=1)
    [stats] = [s for s in log.rule_stats(org.session, NOW - timedelta(days=1), a_day_on) if s.sent]
    assert (stats.rule, stats.sent, stats.pending, stats.acted_on, stats.acted_on_rate) == (
        "stale_deal",
        1,
        0,
        1.0,
        1.0,
    )


def test_stats_judge_only_nudges_at_least_a_day_old_and_count_the_rest_pending(org: Org) -> None:
    ann, [old, new] = _quiet_deals(org, n=2)
    two_days_ago = NOW - timedelta(days=2)
    log.record_send(org.session, ann.id, NudgeRule.STALE_DEAL, f"deal:{old.external_id}",
                    two_days_ago.date(), two_days_ago)  # fmt: skip
    fresh = log.record_send(org.session, ann.id, NudgeRule.STALE_DEAL, f"deal:{new.external_id}",
                            NOW.date(), NOW - timedelta(hours=1))  # fmt: skip
    assert fresh is not None
    log.record_action(org.session, fresh, Action.LOG_ACTIVITY, ann.id, NOW)
    [stats] = [s for s in log.rule_stats(org.session, NOW - timedelta(days=30), NOW) if s.sent]
    assert (stats.sent, stats.pending, stats.acted_on, stats.acted_on_rate) == (2, 1, 0, 0.0)


def test_a_quiet_deal_outside_the_top_few_has_not_changed(org: Org) -> None:
    ann, _ = _quiet_deals(org, n=1)
    _send(org.session)
    for i in range(3):  # three bigger quiet deals push the first out of Ann's top three
        org.deal(ann, f"Bigger {i}", 1_000_000 + i)
    assert _send(org.session, NOW + timedelta(hours=3)).fact_changed == 0


def test_the_digest_gets_a_managers_nudges_beyond_the_budget(org: Org) -> None:
    boss = org.rep("Mia Manager", role=Role.MANAGER)
    for amount in (1_000, 2_000, 3_000, 4_000, 5_000):
        org.deal(boss, f"Deal {amount}", amount)
    held = held_for_digest(
        org.session, CONFIG.model_copy(update={"stale_deals_per_person": 5}), ORG, [boss.id], NOW
    )
    assert [n.fact.split(" (")[0] for n in held[boss.id]] == ["Deal 2000", "Deal 1000"]


def test_settings_turn_rules_off_and_move_quiet_hours(org: Org) -> None:
    ann, _ = _quiet_deals(org)
    log.save_settings(org.session, ann.id, quiet_hours="09:00-11:00",
                      rules_off=[NudgeRule.PAST_CLOSE])  # fmt: skip
    [decision] = evaluate(org.session, CONFIG, ORG, NOW).decisions  # 10:00 in New York
    assert decision.held == Hold.QUIET_HOURS
    log.save_settings(org.session, ann.id, quiet_hours=None, rules_off=[NudgeRule.STALE_DEAL])
    [decision] = evaluate(org.session, CONFIG, ORG, NOW).decisions
    assert decision.held == Hold.MUTED


# --- the CLI ------------------------------------------------------------------------------


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SALESOPS_CONFIG", raising=False)
    (tmp_path / "salesops.toml").write_text('[nudges]\nrules = ["stale_deal"]\ndaily_budget = 2\n')
    env = {"DATABASE_URL": database_url, "SALESOPS_TIMEZONE": "UTC"}

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, list(args), env=env)
        return result.exit_code, result.output

    return run


def test_dry_run_json_lists_due_and_held_nudges_per_person(org: Org, cli) -> None:  # type: ignore[no-untyped-def]
    _quiet_deals(org, n=3)
    org.session.commit()
    code, output = cli("nudges", "--dry-run", "--format", "json", "--now", NOW.isoformat())
    assert code == 0, output
    payload = json.loads(output)
    assert payload["now"] == NOW.isoformat()
    first = payload["nudges"][0]
    assert set(first) == {"rep", "rep_id", "rule", "subject", "text", "why", "held", "until"}
    assert (first["rep"], first["rule"], first["held"]) == ("Ann Archer", "stale_deal", None)
    assert first["text"] == "Deal 2 ($30,000) has had no activity for 60 days"
    held = [n for n in payload["nudges"] if n["held"]]
    assert [(n["held"], n["until"]) for n in held] == [("budget", "2026-12-04T14:00:00+00:00")]


def test_a_second_send_now_at_the_same_moment_sends_nothing_and_says_so(org: Org, cli) -> None:  # type: ignore[no-untyped-def]
    _quiet_deals(org, n=2)
    org.session.commit()
    code, output = cli("nudges", "--send-now", "--now", NOW.isoformat())
    assert (code, output.split(";")[0]) == (0, "2 nudges put in the outbox")
    code, output = cli("nudges", "--send-now", "--now", NOW.isoformat())
    assert (code, output) == (0, "Nothing to send: 2 already sent today; held: none.\n")
    code, output = cli("nudges", "--stats", "--format", "json", "--now", NOW.isoformat())
    stale = next(r for r in json.loads(output)["rules"] if r["rule"] == "stale_deal")
    assert stale == {"rule": "stale_deal", "sent": 2, "pending": 2, "acted_on": 0,
                     "acted_on_rate": None, "snoozed": 0, "muted": 0}  # fmt: skip


def test_stats_refuse_a_window_of_less_than_a_day(cli) -> None:  # type: ignore[no-untyped-def]
    for days in ("-3", "0"):
        code, output = cli("nudges", "--stats", "--days", days)
        assert code == 2 and "--days" in output


def test_send_now_enqueues_the_managers_roll_ups_due_and_dry_run_lists_them(org: Org, cli) -> None:  # type: ignore[no-untyped-def]
    boss = org.rep("Mia Manager", role=Role.MANAGER)
    ann = org.rep("Ann Archer", manager_id=boss.id)
    for amount in (10_000, 20_000):
        org.deal(ann, f"Deal {amount}", amount)
    org.session.commit()
    rollup = {"rep": "Mia Manager", "rep_id": boss.id, "counts": {"stale_deal": 2}, "held": None}
    code, output = cli("nudges", "--dry-run", "--format", "json", "--now", NOW.isoformat())
    assert (code, json.loads(output)["rollups"]) == (0, [rollup])
    code, output = cli("nudges", "--send-now", "--now", NOW.isoformat())
    assert "Manager roll-ups: 1 put in the outbox, 0 already sent today." in output
    key = org.session.scalars(select(Outbox.dedupe_key).where(Outbox.kind == "nudge_rollup")).one()
    assert key == rollup_key(boss.id, NOW.date())  # the key the nudge job uses
    code, output = cli("nudges", "--dry-run", "--format", "json", "--now", NOW.isoformat())
    assert json.loads(output)["rollups"] == [{**rollup, "held": "already sent"}]
    code, output = cli("nudges", "--dry-run", "--now", NOW.isoformat())
    [line] = [line for line in output.splitlines() if "Mia Manager" in line]
    assert "rollup" in line and "stale_deal 2" in line and "already sent" in line
    code, output = cli("nudges", "--send-now", "--now", NOW.isoformat())
    assert "Manager roll-ups: 0 put in the outbox, 1 already sent today." in output
