"""A month inside quarterly quotas: /quota and /team show the quarter's quota and the month's
share of it, pro-rated by calendar days; the KPIs keep counting only quota rows inside the
period (engine rule), so a quarter view is unchanged."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from salesops_core.db.models import Quota, Rep
from salesops_core.kpi.quota_share import wider_quotas
from salesops_core.kpi.views import scope_numbers
from salesops_core.org.scopes import ORG_SCOPE, rep_scope
from salesops_core.periods import month_period, quarter_period
from tests.support.command_org import Org, build_org, context, text_of

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def org(session: Session) -> Org:
    return build_org(session)


def test_quota_this_month_shows_the_quarters_quota_and_the_months_share(
    session: Session, org: Org
) -> None:
    text = text_of(session, org.jane, "/quota this-month")
    assert "No quota for this period." not in text
    assert (
        "Quarterly quota $100,000 (2026-10-01 to 2026-12-31); this month's share $32,609 "
        "(pro-rated by days: 30 of 92). Attainment counts whole quarters: /quota 2026-Q4." in text
    )


def test_team_views_of_a_month_sum_the_reps_quarterly_quotas(session: Session, org: Org) -> None:
    quota = text_of(session, org.manager, "/quota this-month West")
    assert "Quarterly quota $200,000 (2026-10-01 to 2026-12-31); this month's share $65,217" in (
        quota
    )
    team = text_of(session, org.manager, "/team this-month")
    assert "this month's share $65,217 (pro-rated by days: 30 of 92)" in team


def test_the_quarter_view_is_unchanged_and_has_no_share_line(session: Session, org: Org) -> None:
    text = text_of(session, org.jane, "/quota this-quarter")
    assert "Quota: $100,000" in text and "'s share" not in text


def test_month_share_counts_local_calendar_days_across_a_clock_change(session: Session) -> None:
    ann = Rep(name="Ann")
    session.add(ann)
    session.flush()
    q4 = quarter_period(2026, 4, NEW_YORK)  # 92 days; clocks go back on 2026-11-01
    session.add(Quota(rep_id=ann.id, period_start=q4.start, period_end=q4.end, amount=92_000))
    session.commit()
    november = month_period(2026, 11, NEW_YORK)
    (wider,) = wider_quotas(session, rep_scope(ann), november)
    assert (wider.amount, wider.days, wider.shared_days) == (92_000, 92, 30)
    assert wider.share == pytest.approx(30_000)
    assert wider.kind == "quarterly"
    assert wider.start == q4.start and wider.end == q4.end
    # the engine rule: the month's KPIs have no quota; the quarter's have the whole row
    ctx = context()
    now = datetime(2026, 11, 16, 12, tzinfo=NEW_YORK)
    month = scope_numbers(session, ORG_SCOPE, november, ctx.org, ctx.sla, now)
    assert month.quota is None and month.kpis["quota_attainment"] is None
    assert scope_numbers(session, ORG_SCOPE, q4, ctx.org, ctx.sla, now).quota == 92_000
    assert wider_quotas(session, rep_scope(ann), q4) == []


def test_kpi_this_month_says_the_quota_is_quarterly_and_shows_the_months_share(
    session: Session, org: Org
) -> None:
    text = text_of(session, org.jane, "/kpi this-month")
    assert "Quota attainment: —" in text  # the engine rule: no quota row inside the month
    assert (
        "Quarterly quota $100,000 (2026-10-01 to 2026-12-31); this month's share $32,609 "
        "(pro-rated by days: 30 of 92). Attainment counts whole quarters: /quota 2026-Q4." in text
    )
    assert "'s share" not in text_of(session, org.jane, "/kpi this-quarter")
