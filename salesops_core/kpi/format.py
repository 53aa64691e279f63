"""Numbers for people, the same on every surface: `salesops kpi`, Slack replies and charts.

Money, percentages, days, minutes and changes with an arrow. Every formatter takes `None`
(undefined) and answers "—": never "nan", never a fake 0. `format_kpi` and `kpi_delta` pick
the formatter from the KPI registry's unit; `axis_tick` is the compact variant for the round
numbers on a chart's axis (a value label on a chart uses `format_kpi`, so it reads as the text).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from salesops_core.kpi.registry import EXPLAINABLE, Direction, Unit
from salesops_core.periods import MIN_SPAN_DAYS, Period

NA = "—"
UP = "▲"
DOWN = "▼"

Value = float | int | None


def _defined(value: Value) -> bool:
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


def money(value: Value, *, exact: bool = False) -> str:
    """`$45,300` below a million, `$1.2M` / `$3.4B` above (`exact`: `$1,234,500`, for numbers
    a reader checks arithmetic on); "—" when undefined."""
    if not _defined(value):
        return NA
    assert value is not None
    sign = "-" if value < 0 else ""
    amount = abs(float(value))
    if exact:
        return f"{sign}${amount:,.0f}"
    if amount >= 1e9:
        return f"{sign}${amount / 1e9:.1f}B"
    if amount >= 1e6:
        return f"{sign}${amount / 1e6:.1f}M"
    return f"{sign}${amount:,.0f}"


def estimate(value: Value) -> str:
    """A forecast amount, which is no more precise than its range: rounded to the nearest
    $1,000 (the nearest $100 below $10,000), `$1,919,000`; "—" when undefined."""
    if not _defined(value):
        return NA
    assert value is not None
    step = 100 if abs(float(value)) < 10_000 else 1_000
    return money(round(float(value) / step) * step, exact=True)


def money_per_day(value: Value) -> str:
    """A rate such as pipeline velocity: `$1,234 / day`."""
    return f"{money(value)} / day" if _defined(value) else NA


def _percent_text(percent: float) -> str:
    """A number of percent or points: whole from 10 up, one decimal below; truncated, never
    rounded up, so 99.7% of quota never reads "100%" and 9.96% never "10.0%"."""
    percent = round(percent, 6)  # 0.29 * 100 is 28.999999999999996: 29, not 28
    if percent != 0 and abs(percent) < 10:
        return f"{math.trunc(round(percent * 10, 6)) / 10:.1f}"
    return f"{math.trunc(percent)}"


def pct(value: Value) -> str:
    """A fraction as a percentage: 0.873 -> `87%`, 0.045 -> `4.5%` (`_percent_text`)."""
    if not _defined(value):
        return NA
    assert value is not None
    return f"{_percent_text(float(value) * 100)}%"


def count(value: Value) -> str:
    """A whole number with thousands separators."""
    if not _defined(value):
        return NA
    assert value is not None
    return f"{round(float(value)):,}"


def ordinal(value: int) -> str:
    """1st, 2nd, 3rd, 4th ... 11th, 12th, 13th, 21st."""
    teens = value % 100 in (11, 12, 13)
    suffix = "th" if teens else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value:,}{suffix}"


def number(value: Value, digits: int = 1) -> str:
    """A plain number with `digits` decimals (trailing `.0` dropped)."""
    if not _defined(value):
        return NA
    assert value is not None
    amount = float(value)
    if amount != 0 and abs(amount) < 0.1 and digits < 2:
        digits = 2  # 0.03 meetings a week is not "0"
    text = f"{amount:,.{digits}f}"
    return text[:-2] if digits == 1 and text.endswith(".0") else text


def days(value: Value) -> str:
    """`1 day`, `4.5 days`, `23 days`."""
    if not _defined(value):
        return NA
    assert value is not None
    amount = float(value)
    text = number(amount, 1) if abs(amount) < 10 else f"{amount:,.0f}"
    return f"{text} day" if text == "1" else f"{text} days"


def whole_days(value: Value) -> str:
    """Whole days elapsed, rounded down: 153.8 days quiet reads `153 days`, half a day `0 days`."""
    if not _defined(value):
        return NA
    assert value is not None
    return days(math.floor(float(value)))


HOURS_UNTIL_MINUTES = 48 * 60  # a duration reads in hours up to two days, then in days


def _duration_unit(amount: float) -> tuple[float, str]:
    """A duration in minutes as (amount, unit) in the unit a person would say: seconds under a
    minute, minutes under an hour, hours under two days, then days."""
    size = abs(amount)
    if size < 1:
        return amount * 60, "s"
    if size < 60:
        return amount, "min"
    if size < HOURS_UNTIL_MINUTES:
        return amount / 60, "h"
    return amount / 1440, "d"


def minutes(value: Value) -> str:
    """A duration given in minutes, as a person says it: `30 s`, `4.7 min`, `45 min`, `7.1 h`,
    `2.3 d` (tenths below 10 of a unit, whole numbers from there; `59.7 min` reads `1 h`)."""
    if not _defined(value):
        return NA
    assert value is not None
    amount = float(value)
    if abs(round(amount * 60)) < 60:
        return f"{round(amount * 60)} s"
    if abs(round(amount)) < 60:
        return f"{number(amount, 1) if abs(round(amount, 1)) < 10 else round(amount)} min"
    size, unit = _duration_unit(math.copysign(max(abs(amount), 60.0), amount))
    return f"{number(size, 1) if abs(size) < 10 else f'{size:,.0f}'} {unit}"


def ratio(value: Value) -> str:
    """A multiple such as pipeline coverage: `2.3x`."""
    if not _defined(value):
        return NA
    assert value is not None
    return f"{float(value):.1f}x"


FORMATTERS: dict[Unit, Callable[[Value], str]] = {
    Unit.MONEY: money,
    Unit.MONEY_PER_DAY: money_per_day,
    Unit.PERCENT: pct,
    Unit.COUNT: count,
    Unit.DAYS: days,
    Unit.MINUTES: minutes,
    Unit.RATIO: ratio,
    Unit.NUMBER: number,
}


def fmt(value: Value, unit: Unit) -> str:
    """Format `value` in `unit` (see FORMATTERS)."""
    return FORMATTERS[unit](value)


def format_kpi(key: str, value: Value) -> str:
    """A KPI's value as it reads everywhere, e.g. `$45,300`, `87%`, `1.7 h`, `$1,234 / day`."""
    return fmt(value, EXPLAINABLE[key].unit)


def vs_label(period: Period, now: datetime | None = None) -> str:
    """ "vs last quarter", "vs last week", ... or "vs previous period" for a date range; while
    only part of the previous one compares at `now`, "vs same point last quarter"
    (`Period.compares_to_same_point`)."""
    kind = getattr(period, "kind", "range")
    same_point = now is not None and period.compares_to_same_point(now)
    if kind in ("week", "month", "quarter", "year"):
        return f"vs same point last {kind}" if same_point else f"vs last {kind}"
    return "vs same point of the previous period" if same_point else "vs previous period"


def too_short_note(period: Period) -> str:
    """Why a rate or a change is not shown (`Period.too_short`): "too early in the week"."""
    if period.kind in ("week", "month", "quarter", "year"):
        return f"too early in the {period.kind}"
    return f"too short a span (under {number(MIN_SPAN_DAYS)} days)"


def delta(current: Value, previous: Value, unit: Unit, label: str = "") -> str:
    """The change from `previous` to `current` with an arrow, e.g. `▲ 12% vs last quarter`.

    Money changes are relative when the previous value is positive (else the amount), in
    percent as `pct` writes them; percentages change in points written alike (`20 pts`,
    `2.5 pts`, `1 pt`); counts, days and minutes by their own amount in their own units.
    Undefined on either side gives "—"; `label` (e.g. "vs last quarter") ends the text.
    """
    if not (_defined(current) and _defined(previous)):
        return _with_label(NA, label)
    assert current is not None and previous is not None
    change = float(current) - float(previous)
    relative = unit in (Unit.MONEY, Unit.MONEY_PER_DAY) and previous > 0
    size = pct(abs(change) / float(previous)) if relative else ""
    # "$1.6M" against "$1.6M" can still be 1% down: a relative change is judged by its own size
    same_text = size == pct(0.0001) if relative else fmt(current, unit) == fmt(previous, unit)
    if abs(change) < 1e-9 or same_text:
        return _with_label("= no change", label)
    arrow = UP if change > 0 else DOWN
    if unit == Unit.PERCENT:
        points = _percent_text(abs(change) * 100).removesuffix(".0")
        if points == "0":  # 10.99% against 11.0%: the texts differ, the change is tiny
            points = "< 0.1"
        size = f"{points} pt" if points == "1" else f"{points} pts"
    elif not relative:
        size = fmt(abs(change), unit)
    return _with_label(f"{arrow} {size}", label)


def _with_label(text: str, label: str) -> str:
    return f"{text} {label}" if label else text


def kpi_delta(key: str, current: Value, previous: Value, label: str = "") -> str:
    """A KPI's change vs the previous period, in the KPI's unit (see `delta`)."""
    return delta(current, previous, EXPLAINABLE[key].unit, label)


def is_improvement(key: str, current: Value, previous: Value) -> bool:
    """True when the change is good news for this KPI (a fall, for lower-is-better ones)."""
    if not (_defined(current) and _defined(previous)):
        return False
    assert current is not None and previous is not None
    change = float(current) - float(previous)
    if EXPLAINABLE[key].direction == Direction.LOWER_IS_BETTER:
        return change < 0
    return change > 0


def axis_tick(value: float, unit: Unit) -> str:
    """A chart axis tick, compact for the round numbers an axis shows: `$45k`, `$1.05M`,
    `80%`, `30 s`, `15 min`, `1 h`, `7 d`; other units as `fmt` writes them."""
    if unit in (Unit.MONEY, Unit.MONEY_PER_DAY):
        sign = "-" if value < 0 else ""
        amount = abs(value)
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if amount >= size:
                return f"{sign}${_short(amount / size)}{suffix}"
        return f"{sign}${amount:.0f}"
    if unit == Unit.PERCENT:
        return f"{_short(value * 100)}%"
    if unit == Unit.MINUTES:
        amount, word = _duration_unit(value)
        return f"{_short(amount)} {word}"
    return fmt(value, unit)


def _short(value: float) -> str:
    """At most two decimals, none when they are zeros: 45, 12.5, 1.05."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def plural(amount: Value, noun: str, nouns: str | None = None) -> str:
    """`1 lead`, `3 leads`, `— leads`."""
    word = noun if amount == 1 else (nouns or noun + "s")
    return f"{count(amount)} {word}"
