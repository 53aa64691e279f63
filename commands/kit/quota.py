"""A quota kept for a wider span than the period shown (a quarter's in a month view), in words:
/quota, /kpi and /team say the same."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from salesops_core.kpi import format as f
from salesops_core.kpi.quota_share import WiderQuota
from salesops_core.periods import Period, fiscal_year_of, quarter_containing, year_period


def _whole_period(wider: WiderQuota, period: Period) -> str | None:
    """The period word that covers the wider quota exactly (`2026-Q4`, `2026`), if any."""
    tz, fiscal, day = period.start.tzinfo, period.fiscal_year_start_month, wider.start.date()
    assert isinstance(tz, ZoneInfo), period
    if wider.kind == "quarterly":
        whole = quarter_containing(day, tz, fiscal)
    elif wider.kind == "yearly":
        whole = year_period(fiscal_year_of(day, fiscal), tz, fiscal)
    else:
        return None
    return whole.label if (whole.start, whole.end) == (wider.start, wider.end) else None


def wider_quota_text(wider: Sequence[WiderQuota], period: Period) -> str | None:
    """What stands in for "no quota" when quota rows reach outside the period: "Quarterly
    quota $X (2026-10-01 to 2026-12-31); this month's share $Y (pro-rated by days: 30 of 92).
    Attainment counts whole quarters: `/quota 2026-Q4`."; None without such rows."""
    if not wider:
        return None
    share_of = {"week": "this week's", "month": "this month's"}.get(period.kind, "this period's")
    lines = []
    for w in wider:
        last_day = (w.end - timedelta(days=1)).date()
        line = (
            f"{(w.kind or 'wider').capitalize()} quota {f.money(w.amount, exact=True)} "
            f"({w.start.date()} to {last_day}); {share_of} share {f.money(w.share, exact=True)} "
            f"(pro-rated by days: {f.number(w.shared_days)} of {f.number(w.days)})."
        )
        whole = _whole_period(w, period)
        if whole:
            unit = "quarters" if w.kind == "quarterly" else "years"
            line += f" Attainment counts whole {unit}: `/quota {whole}`."
        lines.append(line)
    return "\n".join(lines)
