"""What a stored value may be, checked the same way by the CSV import and the ingest API.

Limits come from the model's columns (String lengths, the money column's precision) and one
time range. Each check returns the reason a user reads, or None when the value is fine, so a
CSV row can collect every problem and the API can answer 422 naming the field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import Numeric, String

from salesops_core.db.models import Activity, Deal, Forecast, Lead, Rep, Team
from salesops_core.periods import FIRST_YEAR, LAST_YEAR

# The time range a stored time stamp may fall in (wall-clock time, before any offset is
# applied): the years periods cover (`periods.FIRST_YEAR` to `LAST_YEAR`), far enough from
# datetime's limits that moving a value by a UTC offset, a day (a period's end) or a year never
# overflows, and inside pandas' nanosecond range, so the vectorised import reads what the row
# path reads.
EARLIEST = datetime(FIRST_YEAR, 1, 1)
LATEST = datetime(LAST_YEAR + 1, 1, 1)

# C0/C1 control characters (NUL, tab, newline, DEL, ...) and lone UTF-16 surrogates, which
# no database column stores as text; the same pattern serves the vectorised import.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def column_length(column: Any) -> int:
    """The length of a String column of the model (`Deal.stage` -> 200)."""
    kind = column.property.columns[0].type
    if not isinstance(kind, String) or kind.length is None:
        raise TypeError(f"{column} is not a String column with a length")
    return kind.length


def _money_limit(column: Any) -> float:
    kind = column.property.columns[0].type
    if not isinstance(kind, Numeric) or kind.precision is None or kind.scale is None:
        raise TypeError(f"{column} is not a Numeric column with precision and scale")
    return float(10 ** (kind.precision - kind.scale))


# Amounts must stay below this to fit the money columns (Numeric(18, 2): 16 integer digits).
MONEY_LIMIT = min(_money_limit(c) for c in (Deal.amount, Forecast.amount))

# A rep is named by email, Slack id, CRM id or full name: the longest of those columns.
REP_REFERENCE_LENGTH = max(
    column_length(c) for c in (Rep.email, Rep.name, Rep.slack_user_id, Rep.crm_user_id)
)

# The longest text each import field may hold, from the column it is stored in (or, for a
# reference, the column it names).
TEXT_LENGTHS: Mapping[str, int] = MappingProxyType(
    {
        "external_id": min(column_length(m.external_id) for m in (Deal, Lead, Activity)),
        "deal_external_id": column_length(Deal.external_id),
        "lead_external_id": column_length(Lead.external_id),
        "owner": REP_REFERENCE_LENGTH,
        "responded_by": REP_REFERENCE_LENGTH,
        "name": column_length(Deal.name),
        "account": column_length(Deal.account),
        "stage": column_length(Deal.stage),
        "product": column_length(Deal.product),
        "forecast_category": column_length(Deal.forecast_category),
        "source": column_length(Lead.source),
        "company": column_length(Lead.company),
        "category": column_length(Forecast.category),
    }
)

# The same for a reps file, whose `name` is a rep's (shorter than a deal's) and whose `team`
# and `region` fill the team table.
REP_TEXT_LENGTHS: Mapping[str, int] = MappingProxyType(
    {
        "name": column_length(Rep.name),
        "email": column_length(Rep.email),
        "slack_user_id": column_length(Rep.slack_user_id),
        "crm_user_id": column_length(Rep.crm_user_id),
        "timezone": column_length(Rep.timezone),
        "manager": REP_REFERENCE_LENGTH,
        "team": column_length(Team.name),
        "region": column_length(Team.region),
    }
)

# ISO 4217 codes in use; an amount or currency column naming anything else is refused.
CURRENCY_CODES = frozenset(
    {
        "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
        "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
        "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
        "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
        "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
        "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
        "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
        "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
        "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
        "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL",
        "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU",
        "UZS", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW",
        "ZWG", "ZWL",
    }
)  # fmt: skip


def text_problem(value: str, max_length: int | None) -> str | None:
    """Why a text cannot be stored: a control character, a lone surrogate, or too long."""
    bad = CONTROL_CHARACTERS.search(value)
    if bad is not None:
        name = unicodedata.name(bad.group(), f"U+{ord(bad.group()):04X}")
        return f"contains a control character ({name}); remove it"
    if max_length is not None and len(value) > max_length:
        return f"is {len(value)} characters long; at most {max_length} fit"
    return None


def amount_problem(value: float, shown: str | None = None) -> str | None:
    """Why an amount cannot be stored: negative, not finite, or too large for the column.

    `shown` is the amount as the user wrote it (default: the number)."""
    shown = shown or f"{value}"
    if not value < MONEY_LIMIT:  # also catches NaN
        return f"amount {shown} is too large; amounts must be below {MONEY_LIMIT:,.0f}"
    if value < 0:
        return f"negative amount {shown}; amounts must be 0 or more"
    return None


def moment_problem(value: datetime) -> str | None:
    """Why a time stamp is out of the range stored data may have (wall-clock time)."""
    wall = value.replace(tzinfo=None)
    if EARLIEST <= wall < LATEST:
        return None
    return f"{value.isoformat()} is out of range; use a time from {FIRST_YEAR} to {LAST_YEAR}"


def currency_problem(code: str) -> str | None:
    """Why a currency code is refused (it must be an ISO 4217 code such as USD)."""
    if code.upper() in CURRENCY_CODES:
        return None
    return f"not a currency code: {code!r}; use ISO codes like USD or EUR"
