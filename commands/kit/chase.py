"""What a manager should chase in a team or the org: who is behind pace, and whose leads wait
past their SLA. `/kpi` for a team and a manager's App Home show the same lines; `/team` the
same line of who is behind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from salesops_core.kpi import format as f
from salesops_core.kpi.pace import behind_pace, elapsed_share
from salesops_core.org.views import rep_label
from salesops_core.periods import Period

NAMES_SHOWN = 8


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:NAMES_SHOWN])
    more = len(items) - NAMES_SHOWN
    return f"{shown} and {f.count(more)} more" if more > 0 else shown


def lagging(period: Period, now: datetime) -> str:
    """What the reps flagged are: "behind pace" while the period runs, then "below quota"."""
    return "below quota" if period.end <= now else "behind pace"


def behind_line(rows: Sequence[Mapping[str, Any]], period: Period, now: datetime) -> str | None:
    """ "*Behind pace (2 of 3)*, 50% expected by now: Lee Gone (left) (10%), Jane Doe (40%)":
    the reps of the leaderboard `rows` behind pace (below quota once the period is over),
    furthest behind first; None when nobody is."""
    expected = elapsed_share(period, now)
    behind = sorted(behind_pace(rows, expected), key=lambda r: r["quota_attainment"])
    if not behind:
        return None
    expectation = "" if period.end <= now else f", {f.pct(expected)} expected by now"
    names = _names(
        [f"{rep_label(r['rep'], r['active'])} ({f.pct(r['quota_attainment'])})" for r in behind]
    )
    head = f"{lagging(period, now).capitalize()} ({len(behind)} of {len(rows)})"
    return f"*{head}*{expectation}: {names}"


def chase_lines(
    rows: Sequence[Mapping[str, Any]],
    overdue: Sequence[tuple[str | None, int]],
    period: Period,
    now: datetime,
) -> list[str]:
    """mrkdwn lines: who is behind pace (`behind_line`) and the owners of open leads past
    their SLA (`overdue`, from `leads.views.overdue_by_owner`); empty when nothing needs
    chasing."""
    lines = []
    if behind := behind_line(rows, period, now):
        lines.append(behind)
    if overdue:
        total = sum(count for _, count in overdue)
        names = _names([f"{owner or 'nobody'} ({f.count(count)})" for owner, count in overdue])
        lines.append(f"*Leads waiting past their SLA ({f.count(total)})*: {names}")
    return lines


def chase_text(
    rows: Sequence[Mapping[str, Any]],
    overdue: Sequence[tuple[str | None, int]],
    period: Period,
    now: datetime,
) -> str:
    """The "To chase" section: the chase lines, or that nothing needs chasing."""
    lines = chase_lines(rows, overdue, period, now) or [
        f"Nothing to chase: nobody {lagging(period, now)}, no lead waiting past its SLA."
    ]
    return "*To chase*\n" + "\n".join(f"• {line}" for line in lines)
