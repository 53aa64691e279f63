"""The weekly manager digest: which digests are due, and into the outbox, once.

- When: `bot.jobs.digest_schedule` (weekday and time in each recipient's zone, DST-safe). A
  digest is due from that moment until the end of the recipient's week.
- What: `[digest] period` as seen on the recipient's local date (last week for a Monday
  digest), computed when it is enqueued (`salesops_core.digest.content`), never before. The
  chart is drawn then too; a chart that fails is logged, counted, and the digest says so.
- Once: each digest is one outbox row keyed by (team, recipient, period dates), its chart a
  follow-up row that waits for the message. A second scheduler, a restart or `salesops digest
  --send-now` finds the key and sends nothing again.
"""

from __future__ import annotations

import base64
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from prometheus_client import Counter
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.jobs.digest_schedule import (
    SlackZones,
    ZoneNotKnownYet,
    digest_period,
    recipient_zone,
    scheduled_moment,
)
from bot.settings import Settings
from salesops_core import outbox
from salesops_core.charts import digest_chart
from salesops_core.db.engine import transaction, try_job_lock
from salesops_core.db.models import Outbox, Rep, Role, Team
from salesops_core.digest.content import build_digests, recipient_of
from salesops_core.digest.facts import DigestChartNotice, DigestNotice, PeriodFacts, TeamDigest
from salesops_core.digest.words import period_title
from salesops_core.org.lookup import find_rep
from salesops_core.org.scopes import Scope
from salesops_core.org.views import team_managers
from salesops_core.periods import Period
from salesops_core.timeutil import utcnow

log = logging.getLogger("salesops.digest")

CHART_NOTE = "The chart could not be drawn this time; the numbers above are complete."


# ---- who and what --------------------------------------------------------------------


@dataclass(frozen=True)
class DigestTarget:
    """Where a digest goes: its part of the dedupe key, and the outbox recipient."""

    key: str  # "rep:17" for a team's manager, the channel for a team channel
    address: str  # a Slack user or channel id or name, or a mailbox to look up when sent
    label: str  # for people: "Freya Moreau", "#na-east-sales"


def manager_target(manager: Rep) -> DigestTarget:
    """A team's manager: their Slack id, else their name and email, looked up when sent."""
    address = outbox.person_recipient(manager.slack_user_id, manager.name, manager.email)
    return DigestTarget(key=manager_target_key(manager.id), address=address, label=manager.name)


def manager_target_key(manager_id: int) -> str:
    """A manager's part of the digest's dedupe key: "rep:17"."""
    return f"rep:{manager_id}"


def channel_target(channel: str) -> DigestTarget:
    """A team channel from `[digest] channels`."""
    return DigestTarget(key=channel, address=channel, label=channel)


def team_channels(settings: Settings, teams: Sequence[Team]) -> dict[int, str]:
    """Each team's channel from `[digest] channels` (team names in any case)."""
    wanted = {name.strip().lower(): channel for name, channel in settings.digest.channels.items()}
    return {team.id: wanted[team.name.lower()] for team in teams if team.name.lower() in wanted}


def unknown_channel_teams(session: Session, settings: Settings) -> list[str]:
    """The team names in `[digest] channels` that match no team (for `salesops doctor`)."""
    known = {name.lower() for name in session.scalars(select(Team.name))}
    return [name for name in settings.digest.channels if name.strip().lower() not in known]


def digest_key(subject: int | str, target: DigestTarget, period: PeriodFacts) -> str:
    """The outbox key of one digest: (team id or `digest_subject`, recipient, the period's
    local dates), the same whatever word named the period ("digest:3:rep:17:2026-11-16..
    2026-11-23", "digest:region:EMEA:rep:4:...", "digest:org:rep:4:...")."""
    tz = ZoneInfo(period.timezone)
    dates = f"{period.start.astimezone(tz).date()}..{period.end.astimezone(tz).date()}"
    return f"digest:{subject}:{target.key}:{dates}"


def digest_subject(digest: TeamDigest) -> int | str:
    """What a digest is about, in its key: the team's id, "region:EMEA" or "org"."""
    if digest.scope == "region":
        return f"region:{digest.region}"
    if digest.scope == "org":
        return "org"
    assert digest.team_id is not None
    return digest.team_id


def scope_recipients(session: Session, settings: Settings, scope: Scope) -> list[Rep]:
    """Who gets a region's or the org's digest: the region's head named in `[digest]
    region_recipients` (a rep's email; UnknownRep if none has it), else every active admin."""
    heads = {k.strip().lower(): v for k, v in settings.digest.region_recipients.items()}
    if scope.kind == "region" and str(scope.key).lower() in heads:
        return [find_rep(session, heads[str(scope.key).lower()], exact=True)]
    query = select(Rep).where(Rep.role == Role.ADMIN, Rep.active).order_by(Rep.name, Rep.id)
    return list(session.scalars(query))


def _present(session: Session, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_(keys))))


@dataclass(frozen=True)
class DueDigest:
    """A team's digest to enqueue for a period, to the recipients it has not reached yet."""

    team: Team
    period: Period
    targets: tuple[DigestTarget, ...]
    timezone: str | None = None  # the recipient's zone the schedule used (None: the stored)
    due_at: datetime | None = None  # UTC; None: on demand

    def key(self, target: DigestTarget, now: datetime) -> str:
        return digest_key(self.team.id, target, PeriodFacts.of(self.period, now))


def _targets(
    team: Team, managers: dict[int, Rep], channels: dict[int, str]
) -> tuple[DigestTarget, ...]:
    manager = managers.get(team.id)
    found = [manager_target(manager)] if manager is not None else []
    if team.id in channels:
        found.append(channel_target(channels[team.id]))
    return tuple(found)


def _not_yet_enqueued(
    session: Session, plans: Sequence[DueDigest], now: datetime
) -> list[DueDigest]:
    """The plans with the targets whose key is not in the outbox (plans left empty go)."""
    present = _present(session, [plan.key(t, now) for plan in plans for t in plan.targets])
    left = (
        replace(plan, targets=tuple(t for t in plan.targets if plan.key(t, now) not in present))
        for plan in plans
    )
    return [plan for plan in left if plan.targets]


def due_digests(
    session: Session,
    settings: Settings,
    now: datetime,
    *,
    client: WebClient | None = None,
    zones: SlackZones | None = None,
) -> list[DueDigest]:
    """The digests whose moment has come this week and that are not enqueued yet.

    `client` (or `zones`, which remembers answers across runs) lets Slack say a manager's
    time zone when the rep has none stored."""
    zones = zones or SlackZones(client)
    teams = session.scalars(select(Team).order_by(Team.name)).all()
    managers = team_managers(session, [team.id for team in teams])
    channels = team_channels(settings, teams)
    plans = []
    for team in teams:
        targets = _targets(team, managers, channels)
        if not targets:
            continue
        try:
            zone = recipient_zone(managers.get(team.id), settings, zones)
        except ZoneNotKnownYet:
            log.info("digest for %s waits: Slack did not say the manager's time zone", team.name)
            continue
        tz = ZoneInfo(zone)
        due_at = scheduled_moment(now, settings.digest.weekday_index, settings.digest.time, tz)
        if now >= due_at:
            period = digest_period(settings, due_at.astimezone(tz).date())
            plans.append(DueDigest(team, period, targets, zone, due_at))
    return _not_yet_enqueued(session, plans, now)


# ---- into the outbox -----------------------------------------------------------------


@dataclass(frozen=True)
class DrawnChart:
    """A digest's chart as drawn when it was enqueued: the PNG, or why there is none."""

    png: bytes | None
    note: str | None = None


def draw_chart(digest: TeamDigest, failures: Counter | None = None) -> DrawnChart:
    """Draw the digest's composite chart now; a failure is logged, counted and noted."""
    try:
        return DrawnChart(digest_chart(digest.chart))
    except Exception:
        log.exception(
            "digest chart of %s (%s) could not be drawn", digest.team, digest.period.label
        )
        if failures is not None:
            failures.inc()
        return DrawnChart(None, CHART_NOTE)


def chart_notice(digest: TeamDigest, png: bytes) -> DigestChartNotice:
    """The chart's follow-up notice: "digest-na-east-2026-w47.png", titled by team and period."""
    slug = re.sub(r"[^a-z0-9]+", "-", f"{digest.team} {digest.period.label}".lower()).strip("-")
    return DigestChartNotice(
        png_base64=base64.b64encode(png).decode("ascii"),
        filename=f"digest-{slug}.png",
        title=f"{digest.team} · {period_title(digest.period)}",
    )


def for_target(digest: TeamDigest, target: DigestTarget) -> TeamDigest:
    """The digest as `target` reads it: the manager's own held nudges are for the manager
    only, not for a team channel."""
    recipient = digest.recipient
    if recipient is not None and target.key == manager_target_key(recipient.rep_id):
        return digest
    return replace(digest, held_nudges=[])


def enqueue_digest(
    session: Session,
    digest: TeamDigest,
    target: DigestTarget,
    *,
    chart: DrawnChart | None = None,
    failures: Counter | None = None,
    now: datetime | None = None,
) -> bool:
    """Put one digest in the outbox, and its chart as a follow-up; False if already there.

    `chart`: drawn already (a digest with two recipients is drawn once); else drawn now, once
    the key is known to be new. The insert itself skips a key that is there."""
    key = digest_key(digest_subject(digest), target, digest.period)
    if chart is None:
        if _present(session, [key]):
            return False
        chart = draw_chart(digest, failures)
    message = DigestNotice(for_target(digest, target), chart_note=chart.note)
    row = outbox.enqueue_row(session, message, dedupe_key=key, recipient=target.address, now=now)
    if row is None:
        return False
    if chart.png is not None:
        outbox.enqueue_row(
            session,
            chart_notice(digest, chart.png),
            dedupe_key=f"{key}:chart",
            recipient=target.address,
            follows=row,
            now=now,
        )
    return True


@dataclass(frozen=True)
class SendResult:
    """What happened to one digest for one recipient."""

    team: str
    recipient: str | None  # "Freya Moreau", "#na-east-sales"; None: the team has neither
    enqueued: bool  # False: it was in the outbox already (or there is nobody to send to)


def enqueue_plans(
    session: Session,
    settings: Settings,
    plans: Sequence[DueDigest],
    now: datetime,
    *,
    failures: Counter | None = None,
) -> list[SendResult]:
    """Compute the digests of the plans not in the outbox yet (one engine pass per period),
    draw each chart once, then enqueue each digest for each of its recipients."""
    fresh = _not_yet_enqueued(session, plans, now)
    fresh_targets = {(plan.team.id, t) for plan in fresh for t in plan.targets}
    by_period: dict[Period, list[DueDigest]] = defaultdict(list)
    for plan in fresh:
        by_period[plan.period].append(plan)
    work = []
    for period, group in by_period.items():
        teams = [plan.team for plan in group]
        built = build_digests(
            session, period, settings.org, settings.sla, now, teams=teams, nudges=settings.nudges
        )
        for plan, digest in zip(group, built, strict=True):
            if digest.recipient is not None and plan.timezone is not None:
                digest = replace(
                    digest, recipient=replace(digest.recipient, timezone=plan.timezone)
                )
            work.append((plan, digest, draw_chart(digest, failures)))  # drawn before any write
    for plan, digest, chart in work:
        for target in plan.targets:
            enqueue_digest(session, digest, target, chart=chart, now=now)
    return [
        SendResult(plan.team.name, target.label, (plan.team.id, target) in fresh_targets)
        for plan in plans
        for target in plan.targets
    ]


def send_now(
    session: Session,
    settings: Settings,
    teams: Sequence[Team],
    period: Period,
    now: datetime,
    *,
    failures: Counter | None = None,
) -> list[SendResult]:
    """Enqueue the digests of `teams` for `period` now (`salesops digest --send-now`): to
    each manager and team channel, once per (team, recipient, period). The caller commits."""
    managers = team_managers(session, [team.id for team in teams])
    channels = team_channels(settings, teams)
    plans = [DueDigest(team, period, _targets(team, managers, channels)) for team in teams]
    nobody = [SendResult(plan.team.name, None, False) for plan in plans if not plan.targets]
    return enqueue_plans(session, settings, plans, now, failures=failures) + nobody


def send_scope_now(
    session: Session,
    settings: Settings,
    digest: TeamDigest,
    recipients: Sequence[Rep],
    now: datetime,
    *,
    failures: Counter | None = None,
) -> list[SendResult]:
    """Enqueue a region's or the org's digest (`digest.regions`) for each recipient, its chart
    drawn once; once per (region or org, recipient, period). The caller commits."""
    chart = draw_chart(digest, failures)
    results = []
    for rep in recipients:
        mine = replace(digest, recipient=recipient_of(rep, settings.org))
        target = manager_target(rep)
        enqueued = enqueue_digest(session, mine, target, chart=chart, now=now)
        results.append(SendResult(digest.team, target.label, enqueued))
    return results


@dataclass(frozen=True)
class DigestRun:
    """What one scheduled run did."""

    due: int  # digests due and not yet enqueued
    results: list[SendResult]


def run_digests(
    deps: Deps,
    *,
    now: datetime | None = None,
    zones: SlackZones | None = None,
) -> DigestRun | None:
    """One guarded scheduler run in its own transaction; None when another process holds
    the lock (on PostgreSQL). Enqueues every digest that is due; the dispatcher sends them."""
    now = now or utcnow()
    with transaction(deps.sessions) as session:
        if not try_job_lock(session, "digests"):
            log.info("digest run skipped: another scheduler holds the lock")
            return None
        due = due_digests(session, deps.settings, now, zones=zones)
        if not due:
            return DigestRun(0, [])
        failures = deps.metrics.digest_chart_failures
        results = enqueue_plans(session, deps.settings, due, now, failures=failures)
    log.info("digests: %s due, %s enqueued", len(due), sum(r.enqueued for r in results))
    return DigestRun(len(due), results)
