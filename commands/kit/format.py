"""Numbers for people: money, percentages, days, minutes and changes with an arrow.

Every formatter takes `None` (undefined) and answers "—": never "nan", never a fake 0.
"""

from __future__ import annotations

import math
from typing import Literal

from salesops_core.periods import Period

NA = "—"
UP = "▲"
DOWN = "▼"

Unit = Literal["money", "pct", "count", "days", "minutes", "ratio", "number"]


def _defined(value: float | int | None) -> bool:
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


def money(value: float | int | None) -> str:
    """`$45,300` below a million, `$1.2M` / `$3.4B` above; "—" when undefined."""
    if not _defined(value):
        return NA
    assert value is not None
    sign = "-" if value < 0 else ""
    amount = abs(float(value))
    if amount >= 1e9:
        return f"{sign}${amount / 1e9:.1f}B"
    if amount >= 1e6:
        return f"{sign}${amount / 1e6:.1f}M"
    return f"{sign}${amount:,.0f}"


def pct(value: float | int | None) -> str:
    """A fraction as a percentage: 0.873 -> `87%`, 0.045 -> `4.5%`.

    Whole percents are truncated, never rounded up, so 99.7% of quota never reads "100%"
    (the charts label bars the same way).
    """
    if not _defined(value):
        return NA
    assert value is not None
    percent = float(value) * 100
    if percent != 0 and abs(percent) < 10:
        return f"{percent:.1f}%"
    return f"{math.trunc(percent)}%"


def count(value: float | int | None) -> str:
    """A whole number with thousands separators."""
    if not _defined(value):
        return NA
    assert value is not None
    return f"{round(float(value)):,}"


def number(value: float | int | None, digits: int = 1) -> str:
    """A plain number with `digits` decimals (trailing `.0` dropped)."""
    if not _defined(value):
        return NA
    assert value is not None
    amount = float(value)
    if amount != 0 and abs(amount) < 0.1 and digits < 2:
        digits = 2  # 0.03 meetings a week is not "0"
    text = f"{amount:,.{digits}f}"
    return text[:-2] if digits == 1 and text.endswith(".0") else text


def days(value: float | int | None) -> str:
    """`1 day`, `4.5 days`, `23 days`."""
    if not _defined(value):
        return NA
    assert value is not None
    amount = float(value)
    text = number(amount, 1) if abs(amount) < 10 else f"{amount:,.0f}"
    return f"{text} day" if text == "1" else f"{text} days"


def minutes(value: float | int | None) -> str:
    """A duration given in minutes: `4 min`, `2.5 h`, `3.1 days`."""
    if not _defined(value):
        return NA
    assert value is not None
    amount = float(value)
    if abs(amount) < 90:
        return f"{number(amount, 1)} min"
    if abs(amount) < 48 * 60:
        return f"{number(amount / 60, 1)} h"
    return days(amount / 1440)


def ratio(value: float | int | None) -> str:
    """A multiple such as pipeline coverage: `2.3x`."""
    if not _defined(value):
        return NA
    assert value is not None
    return f"{float(value):.1f}x"


FORMATTERS = {
    "money": money,
    "pct": pct,
    "count": count,
    "days": days,
    "minutes": minutes,
    "ratio": ratio,
    "number": number,
}


def fmt(value: float | int | None, unit: Unit) -> str:
    """Format `value` in `unit` (see FORMATTERS)."""
    return FORMATTERS[unit](value)


def vs_label(period: Period) -> str:
    """ "vs last quarter", "vs last week", ... or "vs previous period" for a date range."""
    kind = getattr(period, "kind", "range")
    if kind in ("week", "month", "quarter", "year"):
        return f"vs last {kind}"
    return "vs previous period"


def delta(
    current: float | int | None,
    previous: float | int | None,
    unit: Unit,
    label: str = "vs previous period",
) -> str:
    """The change from `previous` to `current` with an arrow, e.g. `▲ 12% vs last quarter`.

    Money changes are relative when the previous value is positive (else the amount);
    percentages change in points; counts, days and minutes by their own amount.
    Undefined on either side gives "—".
    """
    if not (_defined(current) and _defined(previous)):
        return f"{NA} {label}"
    assert current is not None and previous is not None
    change = float(current) - float(previous)
    if abs(change) < 1e-9 or fmt(current, unit) == fmt(previous, unit):
        return f"= no change {label}"
    arrow = UP if change > 0 else DOWN
    if unit == "money":
        size = pct(abs(change) / float(previous)) if previous > 0 else money(abs(change))
    elif unit == "pct":
        points = abs(change) * 100
        size = f"{number(points, 1)} pts"
    else:
        size = fmt(abs(change), unit)
    return f"{arrow} {size} {label}"


def plural(amount: float | int | None, noun: str, nouns: str | None = None) -> str:
    """`1 lead`, `3 leads`, `— leads`."""
    word = noun if amount == 1 else (nouns or noun + "s")
    return f"{count(amount)} {word}"
