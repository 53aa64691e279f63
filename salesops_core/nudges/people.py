"""Who hears nudges: active people at work, with their time zone, days off and own settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.config import (
    NUDGE_RULE_NAMES,
    NudgeConfig,
    NudgeRule,
    OrgConfig,
    parse_quiet_hours,
)
from salesops_core.db.models import NudgeSettings, Rep, Role
from salesops_core.leads.business_hours import workdays_from_string


@dataclass(frozen=True)
class Person:
    """One person who may be nudged, and when they may be."""

    rep_id: int
    name: str
    role: Role
    slack_user_id: str | None
    manager_id: int | None
    team_id: int | None
    timezone: str  # their own, else the org's
    workdays: frozenset[int]  # ISO weekdays
    holiday_country: str | None  # their own, else the org's
    quiet_start: time
    quiet_end: time
    rules_off: frozenset[NudgeRule]  # turned off in their own settings

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_rep(self) -> bool:
        """A seller (not a manager or admin): the activity rules apply without a quota."""
        return self.role == Role.REP


def load_people(
    session: Session, config: NudgeConfig, org: OrgConfig, rep_id: int | None = None
) -> dict[int, Person]:
    """Active people who are not away (one query), by rep id; only `rep_id` when given."""
    query = (
        select(Rep, NudgeSettings)
        .outerjoin(NudgeSettings, NudgeSettings.rep_id == Rep.id)
        .where(Rep.active.is_(True), Rep.away.is_(False))
    )
    if rep_id is not None:
        query = query.where(Rep.id == rep_id)
    people: dict[int, Person] = {}
    for rep, own in session.execute(query):
        start, end = parse_quiet_hours((own and own.quiet_hours) or config.quiet_hours)
        people[rep.id] = Person(
            rep_id=rep.id,
            name=rep.name,
            role=rep.role,
            slack_user_id=rep.slack_user_id,
            manager_id=rep.manager_id,
            team_id=rep.team_id,
            timezone=rep.timezone or org.timezone,
            workdays=workdays_from_string(rep.workdays),
            holiday_country=rep.holiday_country or org.holiday_country,
            quiet_start=start,
            quiet_end=end,
            rules_off=frozenset(
                NudgeRule(name)
                for name in (own.rules_off if own else [])
                if name in NUDGE_RULE_NAMES
            ),
        )
    return people
