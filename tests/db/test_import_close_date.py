"""A CRM's CloseDate is a closed deal's close time AND its last expected close, so a closed
period's coverage (as of its start) still counts the deals that have closed since."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.config import OrgConfig
from salesops_core.db.models import Deal
from salesops_core.kpi.engine import compute_report, resolve_scope
from salesops_core.periods import parse_period
from tests.support.import_helpers import load_reps, run_import, write

HUBSPOT_DEALS = """Record ID,Deal Name,Deal Stage,Amount,Deal owner,Close Date,Create Date,Pipeline
7001,Acme,closedwon,10000,Ada Lovelace,2026-02-10,2025-12-01,Sales Pipeline
7002,Globex,closedlost,6000,Ada Lovelace,2026-03-20,2025-11-15,Sales Pipeline
7003,Initech,contractsent,4000,Ada Lovelace,2026-07-15,2025-12-20,Sales Pipeline
"""
QUOTAS = """owner,period_start,period_end,amount
ada@example.com,2026-01-01,2026-04-01,40000
"""
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_closed_crm_deals_keep_their_close_date_as_expected_close(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    load_reps(sessions)
    run_import(sessions, write(tmp_path, "deals.csv", HUBSPOT_DEALS), "deals", format="hubspot")
    run_import(sessions, write(tmp_path, "quotas.csv", QUOTAS), "quotas")
    with sessions() as session:
        deals = {d.external_id: d for d in session.scalars(select(Deal))}
        assert deals["7001"].expected_close == deals["7001"].closed_at
        assert deals["7002"].expected_close == datetime(2026, 3, 20, tzinfo=UTC)
        assert deals["7003"].expected_close == datetime(2026, 7, 15, tzinfo=UTC)
        org = OrgConfig(timezone="UTC")
        scope = resolve_scope(session, rep="ada@example.com")
        period = parse_period("2026-Q1", tz=org.tz, now=NOW)
        report = compute_report(session, scope, period, org, now=NOW, funnel=False)
    # open at Jan 1 and expected to close in Q1: Acme 10,000 + Globex 6,000 (Initech: July)
    assert report.kpis["pipeline_coverage"] == (10000 + 6000) / 40000
