"""The nudge log: what was sent, the buttons pressed, snoozes, mutes, and the acted-on rate.

A nudge counts as acted on when, within 24 hours of being sent, its owner (or their manager
or an admin, for them) pressed a button that does the thing (log an activity, open the deal,
submit a forecast), or the fact behind it stopped being true (`acted_how = "fact_changed"`).
Snoozing and "not relevant" are recorded, and counted apart: they defer or silence a nudge,
they do not act on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from salesops_core.config import NUDGE_RULE_NAMES, NudgeRule, parse_quiet_hours
from salesops_core.db.engine import upsert_insert
from salesops_core.db.models import NudgeLog, NudgeMute, NudgeSettings
from salesops_core.errors import BadArguments, SalesopsError
from salesops_core.nudges.facts import Action
from salesops_core.nudges.policy import History, Key

ACTED_WINDOW = timedelta(hours=24)
FACT_CHANGED = "fact_changed"
DOING = (Action.OPEN_DEAL, Action.LOG_ACTIVITY, Action.SUBMIT_FORECAST)
SNOOZES = {Action.SNOOZE_DAY: timedelta(days=1), Action.SNOOZE_WEEK: timedelta(days=7)}


class UnknownNudge(SalesopsError):
    """A button on a nudge the log no longer has."""

    def __init__(self) -> None:
        super().__init__("That nudge is no longer known; a newer one may be on its way.")


def nudge_key(rep_id: int, rule: NudgeRule, subject: str, day: date) -> str:
    """The outbox and log key of a nudge: one per (rule, subject, person, local day)."""
    return f"nudge:{rep_id}:{rule.value}:{subject}:{day.isoformat()}"


@dataclass(frozen=True)
class OpenSend:
    """A logged nudge not yet acted on, sent less than 24 hours ago."""

    log_id: int
    rep_id: int
    rule: NudgeRule
    subject: str


def load_histories(
    session: Session,
    rep_ids: Iterable[int] | None,
    today: Mapping[int, date],
    now: datetime,
    cooldown_days: float,
) -> tuple[dict[int, History], list[OpenSend]]:
    """Each person's history (two queries: recent or snoozed log rows, mutes), and the sends
    still inside their 24-hour acted-on window. `rep_ids` None: everyone."""
    since = now - max(timedelta(days=cooldown_days), timedelta(days=2))
    rows = select(NudgeLog).where(or_(NudgeLog.sent_at >= since, NudgeLog.snoozed_until > now))
    mutes = select(NudgeMute.rep_id, NudgeMute.rule, NudgeMute.subject)
    if rep_ids is not None:
        ids = list(rep_ids)
        rows = rows.where(NudgeLog.rep_id.in_(ids))
        mutes = mutes.where(NudgeMute.rep_id.in_(ids))
    last_sent: dict[int, dict[Key, datetime]] = defaultdict(dict)
    snoozed: dict[int, dict[Key, datetime]] = defaultdict(dict)
    sent_today: dict[int, set[Key]] = defaultdict(set)
    open_sends = []
    for row in session.scalars(rows):
        if row.rule not in NUDGE_RULE_NAMES:  # a rule from a newer or older version
            continue
        key = (NudgeRule(row.rule), row.subject)
        if key not in last_sent[row.rep_id] or last_sent[row.rep_id][key] < row.sent_at:
            last_sent[row.rep_id][key] = row.sent_at
        if row.snoozed_until is not None:
            snoozed[row.rep_id][key] = max(row.snoozed_until, snoozed[row.rep_id].get(key, now))
        if row.day == today.get(row.rep_id):
            sent_today[row.rep_id].add(key)
        if row.acted_on_at is None and now - row.sent_at < ACTED_WINDOW:
            open_sends.append(OpenSend(row.id, row.rep_id, key[0], key[1]))
    muted: dict[int, set[Key]] = defaultdict(set)
    for rep_id, rule, subject in session.execute(mutes):
        if rule in NUDGE_RULE_NAMES:
            muted[rep_id].add((NudgeRule(rule), subject))
    people = set(last_sent) | set(snoozed) | set(muted)
    histories = {
        rep_id: History(
            last_sent=last_sent.get(rep_id, {}),
            snoozed_until=snoozed.get(rep_id, {}),
            muted=frozenset(muted.get(rep_id, ())),
            sent_today=frozenset(sent_today.get(rep_id, ())),
        )
        for rep_id in people
    }
    return histories, open_sends


def record_send(
    session: Session, rep_id: int, rule: NudgeRule, subject: str, day: date, now: datetime
) -> int | None:
    """Log a nudge going out; its id, or None when this (rule, subject, person, day) was
    logged before (a second run or a second scheduler)."""
    key = nudge_key(rep_id, rule, subject, day)
    stmt = (
        upsert_insert(session, NudgeLog)
        .values(
            rep_id=rep_id, rule=rule.value, subject=subject, day=day, sent_at=now, dedupe_key=key
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(NudgeLog.id)
    )
    result: int | None = session.execute(stmt).scalar_one_or_none()
    return result


def mark_fact_changed(session: Session, log_ids: Iterable[int], now: datetime) -> int:
    """Record that the facts behind these sends changed (acted on); how many were marked."""
    ids = list(log_ids)
    if not ids:
        return 0
    result = session.execute(
        update(NudgeLog)
        .where(NudgeLog.id.in_(ids), NudgeLog.acted_on_at.is_(None))
        .values(acted_on_at=now, acted_how=FACT_CHANGED)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def record_action(
    session: Session, log_id: int, action: Action, by_rep_id: int, now: datetime
) -> NudgeLog:
    """A button pressed on a nudge by `by_rep_id`, whom the caller let act on it
    (`sent.nudge_for_actor`): a doing button within 24 hours marks it acted on; a snooze holds
    it for a day or a week; "not relevant" mutes its subject."""
    row = session.get(NudgeLog, log_id)
    if row is None:
        raise UnknownNudge()
    row.action = action.value
    if action in DOING and row.acted_on_at is None and now - row.sent_at < ACTED_WINDOW:
        row.acted_on_at, row.acted_how, row.acted_by_id = now, action.value, by_rep_id
    if action in SNOOZES:
        row.snoozed_until = now + SNOOZES[action]
    if action == Action.NOT_RELEVANT:
        session.execute(
            upsert_insert(session, NudgeMute)
            .values(rep_id=row.rep_id, rule=row.rule, subject=row.subject, muted_at=now)
            .on_conflict_do_nothing(index_elements=["rep_id", "rule", "subject"])
        )
    session.flush()
    return row


@dataclass(frozen=True)
class RuleStats:
    """How one rule's nudges fared: sent, pending (sent less than 24 hours ago, so not yet
    judged), acted on within 24 hours (of the others), snoozed, muted."""

    rule: str
    sent: int
    pending: int
    acted_on: int
    snoozed: int
    muted: int

    @property
    def acted_on_rate(self) -> float | None:
        """Acted on, of the nudges at least a day old; None when there are none."""
        judged = self.sent - self.pending
        return self.acted_on / judged if judged else None


def rule_stats(session: Session, since: datetime, now: datetime) -> list[RuleStats]:
    """Per rule, nudges sent from `since` to `now` and what came of them (one grouped query);
    every rule is listed, with zeros when it sent nothing."""
    young = NudgeLog.sent_at > now - ACTED_WINDOW
    query = (
        select(
            NudgeLog.rule,
            func.count(),
            func.sum(case((young, 1), else_=0)),
            func.sum(case((and_(~young, NudgeLog.acted_on_at.isnot(None)), 1), else_=0)),
            func.count(NudgeLog.snoozed_until),
            func.sum(case((NudgeLog.action == Action.NOT_RELEVANT.value, 1), else_=0)),
        )
        .where(NudgeLog.sent_at >= since, NudgeLog.sent_at <= now)
        .group_by(NudgeLog.rule)
    )
    counts = {
        rule: (sent, int(pending or 0), int(acted or 0), snoozed, int(muted or 0))
        for rule, sent, pending, acted, snoozed, muted in session.execute(query)
    }
    return [RuleStats(rule.value, *counts.get(rule.value, (0, 0, 0, 0, 0))) for rule in NudgeRule]


def person_settings(session: Session, rep_id: int) -> NudgeSettings | None:
    """A person's own nudge settings; None: the `[nudges]` defaults."""
    return session.get(NudgeSettings, rep_id)


def save_settings(
    session: Session, rep_id: int, *, quiet_hours: str | None, rules_off: Iterable[NudgeRule]
) -> NudgeSettings:
    """Store a person's quiet hours ("19:00-08:00"; None: the default) and the rules they
    turned off. A malformed quiet-hours text is refused with a message a person can act on."""
    if quiet_hours is not None:
        try:
            parse_quiet_hours(quiet_hours)
        except ValueError as exc:
            raise BadArguments(str(exc)) from None
    own = session.get(NudgeSettings, rep_id) or NudgeSettings(rep_id=rep_id)
    own.quiet_hours = quiet_hours.strip() if quiet_hours is not None else None
    own.rules_off = sorted(NudgeRule(rule).value for rule in rules_off)
    session.add(own)
    session.flush()
    return own
