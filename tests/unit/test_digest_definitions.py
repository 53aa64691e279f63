"""The small definitions the digest relies on: the CRM link, the pace shortfall, which quarter
a period's "quarter to date" is, the response histogram's bins."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.digest.content import digest_quarter, response_bins, short_label
from salesops_core.kpi.pace import Pace
from salesops_core.periods import parse_period, quarter_containing

UTC_ZONE = ZoneInfo("UTC")
SF = "https://acme.lightning.force.com/lightning/r/Opportunity/{external_id}/view"


def test_deal_url_puts_the_quoted_external_id_in_the_template() -> None:
    org = OrgConfig(deal_url=SF)
    assert org.deal_link("006A/1 x") == SF.replace("{external_id}", "006A%2F1%20x")
    assert OrgConfig().deal_link("006A") is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://acme.example/deals/", "must contain {external_id}"),
        ("acme.example/{external_id}", "http(s)://"),
    ],
)
def test_a_deal_url_without_the_id_or_a_scheme_is_refused(url: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        OrgConfig(deal_url=url)


def test_the_pace_shortfall_is_what_brings_attainment_back_to_pace() -> None:
    # 40% of the quarter gone, quota 100,000: on pace means 40,000 won by now
    assert Pace(0.25, 0.4, 100_000, 25_000).shortfall == pytest.approx(15_000)
    assert Pace(0.5, 0.4, 100_000, 50_000).shortfall == 0.0
    assert Pace(None, 0.4, None, 0).shortfall is None


def test_quarter_containing_follows_the_fiscal_calendar() -> None:
    assert quarter_containing(date(2026, 11, 23), UTC_ZONE).label == "2026-Q4"
    # fiscal year from February, named by the year it ends in: Jan 2026 is FY2026 Q4
    assert quarter_containing(date(2026, 1, 15), UTC_ZONE, 2).label == "2026-Q4"
    assert quarter_containing(date(2026, 2, 1), UTC_ZONE, 2).label == "2027-Q1"


def test_quarter_to_date_is_the_quarter_a_week_ends_in() -> None:
    now = datetime(2026, 4, 6, 9, tzinfo=UTC)  # Monday after a week that straddles Apr 1
    week = parse_period("last-week", tz=UTC_ZONE, now=now)  # Mon 03-30 .. Mon 04-06
    assert digest_quarter(week, now, 1).label == "2026-Q2"
    before = parse_period("2026-03-23..2026-03-30", tz=UTC_ZONE, now=now)
    assert digest_quarter(before, now, 1).label == "2026-Q1"  # ends on Sunday 03-29


def test_running_periods_use_the_quarter_of_now() -> None:
    now = datetime(2026, 3, 31, 9, tzinfo=UTC)
    week = parse_period("this-week", tz=UTC_ZONE, now=now)  # Mon 03-30 .. Mon 04-06
    assert digest_quarter(week, now, 1).label == "2026-Q1"


def test_response_bins_add_the_sla_target_as_an_edge_when_every_policy_agrees() -> None:
    bins = response_bins([SlaPolicy(first_response_minutes=7, business_hours=False)])
    assert (bins.sla_minutes, bins.business_hours) == (7, False)
    assert 7 in bins.edges and bins.edges == sorted(bins.edges)
    mixed = response_bins([SlaPolicy(source="web", first_response_minutes=5), SlaPolicy()])
    assert mixed.sla_minutes == 5  # both 5 minutes
    differ = response_bins([SlaPolicy(source="web", first_response_minutes=10), SlaPolicy()])
    assert differ.sla_minutes is None


def test_short_label_drops_the_period_word() -> None:
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert short_label(parse_period("last-week", tz=UTC_ZONE, now=now)) == "2026-W47"
    assert short_label(parse_period("2026-Q4", tz=UTC_ZONE)) == "2026-Q4"
