"""An activity logged from a nudge's "Log activity" form: what the person typed, checked, and
the write (an activity on the nudge's deal, which also answers a `stale_deal` nudge)."""

from __future__ import annotations

import enum
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from salesops_core.db.models import Activity, ActivityType
from salesops_core.errors import SalesopsError
from salesops_core.kpi import format as f

MAX_MINUTES = 24 * 60  # one activity, one day at most
NOTE_MAX_CHARS = 2000


class FormField(enum.StrEnum):
    """The fields of the form, as the errors name them."""

    TYPE = "type"
    MINUTES = "minutes"
    NOTE = "note"


class InvalidActivity(SalesopsError):
    """What is wrong with the form, per field (messages safe to show next to the field)."""

    def __init__(self, errors: dict[FormField, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class LoggedActivity:
    """A checked form: the activity's type, length, note and whether a prospect took part."""

    type: ActivityType
    minutes: float | None
    note: str | None = None
    external_attendee: bool = False


def _minutes(text: str) -> float:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a number of minutes, e.g. 30")
    if value < 0:
        raise ValueError("minutes cannot be negative")
    if value > MAX_MINUTES:
        raise ValueError(f"at most {f.count(MAX_MINUTES)} minutes ({f.minutes(MAX_MINUTES)})")
    return value


def read_form(
    type_value: str | None,
    minutes_text: str | None,
    note: str | None,
    external_attendee: bool,
) -> LoggedActivity:
    """The form as a `LoggedActivity`; `InvalidActivity` names every field that is wrong."""
    errors: dict[FormField, str] = {}
    try:
        kind = ActivityType(type_value) if type_value else None
    except ValueError:
        kind = None
    if kind is None:
        errors[FormField.TYPE] = "choose what you did"
    minutes: float | None = None
    if minutes_text and minutes_text.strip():
        try:
            minutes = _minutes(minutes_text.strip())
        except ValueError as exc:
            errors[FormField.MINUTES] = str(exc)
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX_CHARS:
        errors[FormField.NOTE] = f"at most {f.count(NOTE_MAX_CHARS)} characters"
    if errors or kind is None:
        raise InvalidActivity(errors)
    return LoggedActivity(kind, minutes, note, external_attendee)


def log_activity(
    session: Session, logged: LoggedActivity, *, rep_id: int, deal_id: int | None, at: datetime
) -> Activity:
    """Write the activity for `rep_id` (on `deal_id`, when the nudge is about a deal).

    It is logged as it ends: it started `minutes` before `at`.
    """
    activity = Activity(
        external_id=f"slack-{uuid.uuid4()}",
        rep_id=rep_id,
        type=logged.type,
        started_at=at - timedelta(minutes=logged.minutes or 0),
        minutes=logged.minutes,
        deal_id=deal_id,
        external_attendee=logged.external_attendee,
        note=logged.note,
    )
    session.add(activity)
    session.flush()
    return activity
