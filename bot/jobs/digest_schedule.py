"""When a manager's weekly digest is due: `[digest] weekday/time` in the recipient's zone.

The zone is the manager's stored one, else Slack's `users.info` tz, else the org's. The local
wall-clock moment is computed first and only then turned into UTC, so a 9:00 digest stays at
9:00 across a DST change; a time the clocks skip that day is taken as the first moment after
the gap, an ambiguous one as its first occurrence.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.settings import Settings
from salesops_core.db.models import Rep
from salesops_core.periods import Period, parse_period

SLACK_ZONE_TTL_SECONDS = 12 * 3600.0


def wall_clock_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant at which clocks in `tz` show `at` on `day`.

    An ambiguous time (clocks set back) is its first occurrence; a time the clocks skip
    (set forward) is the first moment after the gap, i.e. the change itself."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first
    before = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)  # a gap: fold=1 is before it
    after_offset = first.astimezone(tz).utcoffset()
    low, high = before, first
    while high - low > timedelta(seconds=1):  # the change lies in (low, high]
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == after_offset:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def scheduled_moment(now: datetime, weekday: int, at: time, tz: ZoneInfo) -> datetime:
    """This week's digest moment in `tz` (the local Monday-to-Sunday week of `now`), in UTC."""
    today = now.astimezone(tz).date()
    day = today - timedelta(days=today.weekday()) + timedelta(days=weekday)
    return wall_clock_instant(day, at, tz)


def digest_period(settings: Settings, local_day: date) -> Period:
    """`[digest] period` as seen on the recipient's `local_day`, bounded by org midnights."""
    org = settings.org
    anchor = datetime.combine(local_day, time(12), tzinfo=org.tz)
    return parse_period(
        settings.digest.period,
        tz=org.tz,
        fiscal_year_start_month=org.fiscal_year_start_month,
        now=anchor,
    )


class ZoneNotKnownYet(Exception):
    """Slack could not be asked for a user's time zone just now (rate limited, down)."""


class SlackZones:
    """Each Slack user's time zone from `users.info`, remembered for a while.

    The scheduler asks every minute; the rep table has no column for Slack's zone (the
    stored `rep.timezone` is the one people set, and it also drives SLA business hours)."""

    def __init__(
        self,
        client: WebClient | None,
        *,
        ttl_seconds: float = SLACK_ZONE_TTL_SECONDS,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        self.client = client
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._known: dict[str, tuple[str | None, float]] = {}

    def zone_of(self, slack_user_id: str) -> str | None:
        """Slack's zone for the user; None when Slack has none (or no client is given)."""
        if self.client is None:
            return None
        cached = self._known.get(slack_user_id)
        if cached is not None and self.clock() - cached[1] < self.ttl_seconds:
            return cached[0]
        try:
            answer = self.client.users_info(user=slack_user_id)
            zone = (answer.get("user") or {}).get("tz") or None
        except SlackApiError as exc:
            if exc.response.status_code == 429 or exc.response.status_code >= 500:
                raise ZoneNotKnownYet(slack_user_id) from exc
            zone = None  # user_not_found and the like: the org's zone will do
        except OSError as exc:
            raise ZoneNotKnownYet(slack_user_id) from exc
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (KeyError, ValueError):
                zone = None
        self._known[slack_user_id] = (zone, self.clock())
        return zone


def recipient_zone(manager: Rep | None, settings: Settings, zones: SlackZones) -> str:
    """The zone a digest's schedule uses: the manager's stored one, Slack's, the org's."""
    if manager is not None and manager.timezone:
        return manager.timezone
    if manager is not None and manager.slack_user_id:
        slack_zone = zones.zone_of(manager.slack_user_id)
        if slack_zone:
            return slack_zone
    return settings.org.timezone
