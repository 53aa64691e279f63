"""When a digest is due: local wall-clock times in each recipient's zone, across DST."""

from datetime import UTC, date, datetime, time, timedelta
from unittest.mock import Mock
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.jobs.digest_schedule import (
    SlackZones,
    ZoneNotKnownYet,
    digest_period,
    recipient_zone,
    scheduled_moment,
    wall_clock_instant,
)
from bot.settings import Settings
from salesops_core.config import DigestConfig, OrgConfig
from salesops_core.db.models import Rep

MONDAY = 0
NINE = time(9, 0)

# (zone, a Monday before its spring change, the Monday after, the Monday before its autumn
# change, the Monday after) in 2026
DST_WEEKS = [
    ("America/New_York", date(2026, 3, 2), date(2026, 3, 9), date(2026, 10, 26), date(2026, 11, 2)),
    ("Europe/Berlin", date(2026, 3, 23), date(2026, 3, 30), date(2026, 10, 19), date(2026, 10, 26)),
    ("Australia/Sydney", date(2026, 9, 28), date(2026, 10, 5), date(2026, 3, 30), date(2026, 4, 6)),
]


def local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone))


@pytest.mark.parametrize("zone, spring_before, spring_after, fall_before, fall_after", DST_WEEKS)
def test_a_nine_oclock_digest_stays_at_nine_local_across_both_changes(
    zone, spring_before, spring_after, fall_before, fall_after
):
    tz = ZoneInfo(zone)
    for before, after, shift in ((spring_before, spring_after, -1), (fall_before, fall_after, 1)):
        first, second = wall_clock_instant(before, NINE, tz), wall_clock_instant(after, NINE, tz)
        assert (local(first, zone).time(), local(second, zone).time()) == (NINE, NINE)
        # clocks forward: the same local time comes an hour earlier in UTC, and back again
        assert second - first == timedelta(days=7, hours=shift)


@pytest.mark.parametrize(
    "zone, day, expected_utc",
    [
        ("America/New_York", date(2026, 3, 8), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        ("Europe/Berlin", date(2026, 3, 29), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        ("Australia/Sydney", date(2026, 10, 4), datetime(2026, 10, 3, 16, 0, tzinfo=UTC)),
    ],
)
def test_a_0230_digest_on_the_spring_forward_day_goes_at_the_first_moment_after_the_gap(
    zone, day, expected_utc
):
    instant = wall_clock_instant(day, time(2, 30), ZoneInfo(zone))
    assert instant == expected_utc
    assert local(instant, zone).time() == time(3, 0)


@pytest.mark.parametrize(
    "zone, day, at, expected_utc",
    [
        ("America/New_York", date(2026, 11, 1), time(1, 30), datetime(2026, 11, 1, 5, 30)),
        ("Europe/Berlin", date(2026, 10, 25), time(2, 30), datetime(2026, 10, 25, 0, 30)),
        ("Australia/Sydney", date(2026, 4, 5), time(2, 30), datetime(2026, 4, 4, 15, 30)),
    ],
)
def test_an_ambiguous_time_on_the_fall_back_day_is_its_first_occurrence(
    zone, day, at, expected_utc
):
    instant = wall_clock_instant(day, at, ZoneInfo(zone))
    assert instant == expected_utc.replace(tzinfo=UTC)
    assert local(instant, zone).fold == 0 and local(instant, zone).time() == at


def test_the_moment_is_in_the_recipients_week_and_zone():
    berlin, sydney = ZoneInfo("Europe/Berlin"), ZoneInfo("Australia/Sydney")
    now = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # Sun 23:30 UTC = Mon 00:30 Berlin
    assert scheduled_moment(now, MONDAY, NINE, berlin) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    # Mon 10:30 in Sydney already: this week's digest was due at Sun 22:00 UTC
    assert scheduled_moment(now, MONDAY, NINE, sydney) == datetime(2026, 11, 22, 22, 0, tzinfo=UTC)
    # late in the week it is still this week's Monday that counts (a catch-up, not next week)
    friday = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert scheduled_moment(friday, MONDAY, NINE, berlin) == datetime(
        2026, 11, 23, 8, 0, tzinfo=UTC
    )


def settings(org_zone: str = "America/New_York", **digest) -> Settings:
    return Settings(org=OrgConfig(timezone=org_zone), digest=DigestConfig(**digest))


def test_the_period_is_last_week_as_seen_on_the_recipients_monday():
    # a Sydney manager's Monday 9:00 is still Sunday in New York: the digest covers the
    # week that ends on that Monday, not the week before it
    period = digest_period(settings(), date(2026, 11, 23))
    assert (period.start.date(), period.end.date()) == (date(2026, 11, 16), date(2026, 11, 23))
    assert str(period.start.tzinfo) == "America/New_York"
    month = digest_period(settings(period="last-month"), date(2026, 12, 7))
    assert (month.start.date(), month.end.date()) == (date(2026, 11, 1), date(2026, 12, 1))


def slack_error(status: int, error: str) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="users.info",
        req_args={},
        data={"ok": False, "error": error},
        headers={},
        status_code=status,
    )
    return SlackApiError(error, response)


def test_slack_zones_are_remembered_and_a_transient_failure_says_try_later():
    client = Mock()
    client.users_info.return_value = {"user": {"tz": "Asia/Tokyo"}}
    clock = Mock(return_value=0.0)
    zones = SlackZones(client, ttl_seconds=60, clock=clock)
    assert zones.zone_of("U1") == zones.zone_of("U1") == "Asia/Tokyo"
    assert client.users_info.call_count == 1
    clock.return_value = 61.0
    client.users_info.side_effect = slack_error(429, "ratelimited")
    with pytest.raises(ZoneNotKnownYet):
        zones.zone_of("U1")
    client.users_info.side_effect = slack_error(200, "user_not_found")
    assert zones.zone_of("U2") is None
    assert SlackZones(None).zone_of("U1") is None


def test_the_recipients_zone_is_the_stored_one_else_slacks_else_the_orgs():
    zones = Mock()
    zones.zone_of.return_value = "Asia/Tokyo"
    stored = Rep(name="A", timezone="Europe/Paris", slack_user_id="U1")
    unstored = Rep(name="B", timezone=None, slack_user_id="U2")
    no_slack = Rep(name="C", timezone=None, slack_user_id=None)
    org = settings("America/Chicago")
    assert recipient_zone(stored, org, zones) == "Europe/Paris"
    assert recipient_zone(unstored, org, zones) == "Asia/Tokyo"
    assert recipient_zone(no_slack, org, zones) == "America/Chicago"
    assert recipient_zone(None, org, zones) == "America/Chicago"
    zones.zone_of.return_value = None
    assert recipient_zone(unstored, org, zones) == "America/Chicago"
