"""Cell parsers for CSV imports: time stamps, amounts, probabilities, booleans.

Each parser takes the raw text of one cell and returns a value or raises ValueError whose
message is the reason shown to the user (the caller adds file, line and column).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from salesops_core.importers import limits

DATE_HELP = "use ISO (2026-03-07 or 2026-03-07T14:05:00Z) or US style (3/7/2026 2:05 PM)"

_US_DATE = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp]\.?[Mm]\.?)?)?$"
)
_SLASH_ISO_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_BASIC_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")
AMOUNT_HELP = "use a number such as 1234.50 or $1,234.50, with at most one currency (USD, $, EUR)"
_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"(\d+),(\d{1,2})")
# thousands groups with one separator throughout, then optionally the other mark and decimals
_GROUPED = re.compile(
    r"(?P<whole>\d{1,3}(?P<sep>[,. '\u00a0\u202f])\d{3}(?:(?P=sep)\d{3})*)"
    r"(?:(?!(?P=sep))[.,](?P<decimals>\d+))?"
)
_CURRENCY_MARK = "[A-Za-z]{3}|" + "|".join(map(re.escape, _CURRENCY_SYMBOLS))
_AMOUNT_SHAPE = re.compile(
    rf"(?P<minus>-)?\s*(?:(?P<before>{_CURRENCY_MARK})\s*)?(?P<minus_after>-)?\s*"
    rf"(?P<number>\d[\d,. '\u00a0\u202f]*)(?<=\d)\s*(?P<after>{_CURRENCY_MARK})?"
)
_TRUE = frozenset({"1", "true", "yes", "y", "t", "x", "on"})
_FALSE = frozenset({"0", "false", "no", "n", "f", "off"})


def parse_timestamp(text: str, tz: ZoneInfo) -> tuple[datetime, bool]:
    """An aware UTC datetime and whether the text was a date alone (midnight in `tz`).

    Accepts ISO 8601 (with Z, +0000 or +02:00 offsets, or none: then `tz` local time),
    YYYY/MM/DD, and US report style M/D/YY or M/D/YYYY with an optional time
    (`14:05`, `2:05 PM`).
    """
    return _parse_timestamp(text.strip(), tz)


@lru_cache(maxsize=65536)
def _parse_timestamp(text: str, tz: ZoneInfo) -> tuple[datetime, bool]:
    if not text:
        raise ValueError("empty time stamp")
    parsed = _parse_iso(text) or _parse_us(text)
    if parsed is None:
        raise ValueError(f"not a date: {text!r}; {DATE_HELP}")
    value, date_only = parsed
    problem = limits.moment_problem(value)
    if problem is not None:
        raise ValueError(problem)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC), date_only


def _parse_iso(text: str) -> tuple[datetime, bool] | None:
    if not text[:4].isdigit():
        return None
    match = _SLASH_ISO_DATE.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return _checked(year, month, day, 0, 0, 0, text), True
    candidate = _BASIC_OFFSET.sub(r"\1:\2", text) if "T" in text or " " in text else text
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    date_only = len(text) <= 10
    return value, date_only


def _parse_us(text: str) -> tuple[datetime, bool] | None:
    match = _US_DATE.match(text)
    if not match:
        return None
    month, day, year_text, hour, minute, second, ampm = match.groups()
    year = int(year_text)
    if len(year_text) == 2:
        year += 1900 if year >= 69 else 2000
    h = int(hour) if hour else 0
    if ampm:
        if not 1 <= h <= 12:
            raise ValueError(f"not a time: {text!r}; hour {h} with {ampm}")
        h = h % 12 + (12 if ampm[0] in "Pp" else 0)
    value = _checked(year, int(month), int(day), h, int(minute or 0), int(second or 0), text)
    return value, hour is None


def _checked(year: int, month: int, day: int, h: int, m: int, s: int, text: str) -> datetime:
    try:
        return datetime(year, month, day, h, m, s)
    except ValueError as exc:
        raise ValueError(f"not a date: {text!r} ({exc}); {DATE_HELP}") from None


def parse_period_end(text: str, tz: ZoneInfo) -> datetime:
    """The exclusive end of a period: a date alone is the period's last day unless it is
    the first of a month (then it is already the first day after the period)."""
    value, date_only = parse_timestamp(text, tz)
    if not date_only:
        return value
    local = value.astimezone(tz)
    if local.day == 1:
        return value
    next_day = (local.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=tz)
    return next_day.astimezone(UTC)


def parse_amount(text: str) -> tuple[float, str | None]:
    """A money amount and the currency it names (`$1,234.50` -> 1234.5, "USD").

    A number (`1234.5`, `1.2E+06`), with thousands separators (`,` `.` space or `'`) and at
    most one known currency symbol or ISO code before or after it; `(100)` and `-100` are
    negative. With both `,` and `.`, the last one is the decimal mark; a lone `,` followed by
    one or two digits is a decimal comma (`12,50`). Anything else (`10 k`, `12abc`, `NaN`,
    `1e309`) is refused rather than read as some other number.
    """
    raw = text.strip()
    if _PLAIN_NUMBER.fullmatch(raw):
        return _finite(float(raw), text), None
    body, negative = raw, False
    if body.startswith("(") and body.endswith(")"):
        body, negative = body[1:-1].strip(), True
    shape = _AMOUNT_SHAPE.fullmatch(body)
    if shape is None:
        raise ValueError(f"not an amount: {text!r}; {AMOUNT_HELP}")
    if shape["minus"] or shape["minus_after"]:
        if negative or (shape["minus"] and shape["minus_after"]):
            raise ValueError(f"not an amount: {text!r}; {AMOUNT_HELP}")
        negative = True
    codes = {_currency(text, c) for c in (shape["before"], shape["after"]) if c}
    if len(codes) > 1:
        raise ValueError(f"not an amount: {text!r} names two currencies")
    number = _grouped_number(shape["number"])
    if number is None:
        raise ValueError(f"not an amount: {text!r}; {AMOUNT_HELP}")
    return _finite(number, text) * (-1 if negative else 1), next(iter(codes), None)


def _finite(value: float, text: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"not an amount: {text!r} is too large")
    return value


def _currency(text: str, mark: str) -> str:
    code = _CURRENCY_SYMBOLS.get(mark, mark.upper())
    if limits.currency_problem(code) is not None:
        raise ValueError(f"not an amount: {text!r}; {mark!r} is not a known currency")
    return code


def _grouped_number(body: str) -> float | None:
    """The number written with thousands separators and a decimal mark, or None."""
    if _PLAIN_NUMBER.fullmatch(body):
        return float(body)
    comma = _DECIMAL_COMMA.fullmatch(body)
    if comma:
        return float(f"{comma[1]}.{comma[2]}")
    grouped = _GROUPED.fullmatch(body)
    if grouped is None:
        return None
    decimal = f".{grouped['decimals']}" if grouped["decimals"] else ""
    return float(re.sub(r"\D", "", grouped["whole"]) + decimal)


def parse_probability(text: str, *, percent: bool = False) -> float:
    """A probability 0..1. `percent` (or a `%` sign, or any value above 1) means 0-100."""
    raw = text.strip()
    if raw.endswith("%"):
        percent, raw = True, raw[:-1].strip()
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise ValueError(f"not a probability: {text!r}; use 0-1 or 0-100") from None
    if percent or value > 1:
        value /= 100
    if not 0 <= value <= 1:
        raise ValueError(f"probability {text.strip()} is out of range; use 0-1 or 0-100")
    return value


def parse_bool(text: str) -> bool:
    """True for 1/true/yes/y/t/x, False for 0/false/no/n/f (any case)."""
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"not yes/no: {text!r}; use 1/0, true/false or yes/no")


def parse_number(text: str) -> float:
    """A plain non-negative number (minutes, seconds)."""
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"not a number: {text!r}; use a finite number")
    if value < 0:
        raise ValueError(f"negative number {text.strip()}; must be 0 or more")
    return value


@lru_cache(maxsize=4096)
def normalize_label(text: str) -> str:
    """A lower-case snake_case label (`Best Case` and `BestCase` -> `best_case`)."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text.strip())
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")
