"""Deals converted a column at a time: time stamps parsed vectorised with pandas, the other
cells once per distinct value with the parsers of `parsing`.

A row is converted here only when every cell is clean; any row with a problem (an empty
required cell, a value no fast path reads, an unknown stage, ...) goes through the row
converter `records.convert_deal`, which gives exactly the same values and the exact error
messages. So this module is a fast path, never a second set of rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from salesops_core.db.models import Outcome
from salesops_core.importers import limits, parsing, records
from salesops_core.importers.csvfile import ColumnPlan, CsvTable
from salesops_core.importers.formats import FormatSpec
from salesops_core.importers.stagemap import StageMap

_BAD = object()  # a cell the fast path cannot take: the row goes to the row converter

# Shapes of time stamps read vectorised: (full-match pattern, pandas format, has an offset).
# The shapes do not overlap; anything else is left to `parsing.parse_timestamp`.
_DATE = r"\d{4}-\d{2}-\d{2}"
_US_DATE = r"\d{1,2}/\d{1,2}/\d{4}"
_SIMPLE_AMOUNT = r"\d+(?:\.\d{1,2})?|\$\d{1,3}(?:,\d{3})*(?:\.\d{1,2})?"
_SHAPES = (
    (_DATE + r"[T ]\d{2}:\d{2}:\d{2}(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)", "ISO8601", True),
    (_DATE + r"[T ]\d{2}:\d{2}(?::\d{2})?", "ISO8601", False),
    (_DATE, "%Y-%m-%d", False),
    (_US_DATE, "%m/%d/%Y", False),
    (_US_DATE + r" \d{1,2}:\d{2}", "%m/%d/%Y %H:%M", False),
    (_US_DATE + r" \d{1,2}:\d{2}:\d{2}", "%m/%d/%Y %H:%M:%S", False),
    (_US_DATE + r" \d{1,2}:\d{2} [AP]M", "%m/%d/%Y %I:%M %p", False),
)


_A_DAY = timedelta(days=1)  # more than any UTC offset


def parse_timestamps(texts: list[str], tz: ZoneInfo) -> tuple[list[datetime | None], np.ndarray]:
    """Aware UTC datetimes (None where empty or not read) and a mask of cells that are empty
    or were read. Local times are in `tz`; ambiguous or skipped local times are not read."""
    series = pd.Series(texts, dtype=object)
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us]")
    todo = (series != "").to_numpy().copy()
    for pattern, fmt, has_offset in _SHAPES:
        candidates = series[todo]
        if candidates.empty:
            break
        mask = candidates.str.fullmatch(pattern).to_numpy(dtype=bool)
        if not mask.any():
            continue
        index = candidates.index[mask]
        parsed = pd.to_datetime(candidates[mask], format=fmt, errors="coerce", utc=has_offset)
        if has_offset:
            parsed = parsed.dt.tz_localize(None)
        elif getattr(tz, "key", None) != "UTC":
            local = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            parsed = local.dt.tz_convert("UTC").dt.tz_localize(None)
        out[index] = parsed.astype("datetime64[us]")
        todo[index] = False
    # The row path bounds the wall-clock time; this UTC one leaves the values within a day of
    # either bound (an offset away) to it, so both paths accept exactly the same times.
    in_range = (out >= limits.EARLIEST + _A_DAY) & (out < limits.LATEST - _A_DAY)
    out[~in_range] = pd.NaT
    naive = out.to_numpy(dtype="datetime64[us]").astype(object)  # datetime or None
    aware = [None if v is None else v.replace(tzinfo=UTC) for v in naive]
    return aware, out.notna().to_numpy() | (series == "").to_numpy()


def _per_value(texts: list[str], convert: Callable[[str], Any]) -> list[Any]:
    """`convert` applied once per distinct text; ValueError gives _BAD."""
    results: dict[str, Any] = {}
    for text in set(texts):
        try:
            results[text] = convert(text)
        except ValueError:
            results[text] = _BAD
    return [results[t] for t in texts]


def _amount(text: str) -> Any:
    if not text:
        return None, None
    amount, currency = parsing.parse_amount(text)
    return _BAD if limits.amount_problem(amount) else (round(amount, 2), currency)


def _amounts(texts: list[str]) -> list[Any]:
    """(amount, symbol currency) per cell: plain numbers and `$1,234.50` read directly (as
    `parse_amount` reads them), other cells once per distinct value."""
    simple = pd.Series(texts, dtype=object).str.fullmatch(_SIMPLE_AMOUNT).to_numpy(dtype=bool)
    rest = iter(_per_value([t for t, s in zip(texts, simple, strict=True) if not s], _amount))
    return [
        _simple_amount(t) if is_simple else next(rest)
        for t, is_simple in zip(texts, simple, strict=True)
    ]


def _simple_amount(text: str) -> Any:
    value = float(text.lstrip("$").replace(",", ""))
    return (value, "USD" if text[0] == "$" else None) if value < limits.MONEY_LIMIT else _BAD


def _storable(texts: list[str], field: str) -> Any:
    """Which cells `limits.text_problem` accepts (True for all, the usual case, else a mask)."""
    length = limits.TEXT_LENGTHS.get(field)
    joined = " ".join(texts)  # printable text has no control character (the quick test)
    clean = joined.isprintable() or not limits.CONTROL_CHARACTERS.search(joined)
    if clean and (length is None or max(map(len, texts), default=0) <= length):
        return True
    return np.array([limits.text_problem(t, length) is None for t in texts], dtype=bool)


def _explicit_outcome(text: str, closed: Any, won: Any, flags: bool) -> Any:
    """As `records._explicit_outcome`: the outcome column, else IsClosed/IsWon flags."""
    if text:
        return records.OUTCOME_WORDS.get(text.lower(), _BAD)
    if not flags:
        return None
    if closed is _BAD or won is _BAD:
        return _BAD
    return Outcome.WON if won else Outcome.LOST if closed else Outcome.OPEN


def _flag(text: str) -> bool | None:
    return parsing.parse_bool(text) if text else None


def convert_deals(
    table: CsvTable, plan: ColumnPlan, spec: FormatSpec, stages: StageMap, tz: ZoneInfo
) -> list[records.Converted]:
    """Every deal row converted, in file order (clean rows by column, the rest by row)."""
    by_column = list(zip_longest(*(cells for _, cells in table.records), fillvalue=""))

    def column(name: str) -> list[str]:
        i = plan.index.get(name)
        if i is None or i >= len(by_column):
            return [""] * len(table.records)
        return list(map(str.strip, by_column[i]))

    ext, owner, stage_text = column("external_id"), column("owner"), column("stage")
    clean = np.array([bool(a and b and c) for a, b, c in zip(ext, owner, stage_text, strict=True)])
    for name in plan.index.keys() & limits.TEXT_LENGTHS.keys():  # other cells: their parsers
        clean &= _storable(column(name), name)
    stamps: dict[str, list[datetime | None]] = {}
    for name in ("created_at", "expected_close", "closed_at", "close_date"):
        stamps[name], read = parse_timestamps(column(name), tz)
        clean &= read
    texts = {name: [t or None for t in column(name)] for name in ("name", "account", "product")}
    amounts = _amounts(column("amount"))
    currency_text = column("currency")
    percent = spec.probability_percent
    probability = _per_value(
        column("probability"),
        lambda t: parsing.parse_probability(t, percent=percent) if t else None,
    )
    category = _per_value(
        column("forecast_category"), lambda t: parsing.normalize_label(t) if t else None
    )
    flags = plan.has("is_closed")
    closed, won = _per_value(column("is_closed"), _flag), _per_value(column("is_won"), _flag)
    outcome_text = column("outcome")
    states: dict[tuple[str, Outcome | None], records.DealStage] = {}  # (stage, outcome) -> rule
    optional = [name for name in ("name", "account", "product") if plan.has(name)]
    money = plan.has("amount") or plan.has("currency")
    has_expected = plan.has("expected_close") or plan.has("close_date")

    out: list[records.Converted] = []
    for n, (line, cells) in enumerate(table.records):
        values: dict[str, Any] | None = None
        explicit = _explicit_outcome(outcome_text[n], closed[n], won[n], flags)
        if clean[n] and stamps["created_at"][n] and explicit is not _BAD:
            values = {"external_id": ext[n], "owner_id": owner[n]}
            values["created_at"] = stamps["created_at"][n]
            for name in optional:
                values[name] = texts[name][n]
            if money:
                amount = amounts[n]
                currency = currency_text[n] or (amount[1] if amount is not _BAD else None) or ""
                currency = currency.upper() or None
                if amount is _BAD or (currency and limits.currency_problem(currency)):
                    values = None
                else:
                    values["amount"], values["currency"] = amount[0], currency
            if values is not None and plan.has("probability"):
                values["probability"] = probability[n]
                if probability[n] is _BAD:
                    values = None
            if values is not None and plan.has("forecast_category"):
                values["forecast_category"] = category[n]
            key = (stage_text[n], explicit)
            state = states.get(key) or states.setdefault(key, records.deal_stage(stages, *key))
            if values is not None and state.problem is None:
                values["stage"], values["outcome"] = state.stage, state.outcome
                outcome = state.outcome
                close_date = stamps["close_date"][n]
                if has_expected:
                    values["expected_close"] = stamps["expected_close"][n] or close_date
                values["closed_at"] = (
                    None if outcome == Outcome.OPEN else stamps["closed_at"][n] or close_date
                )
                if records.closed_at_problem(outcome, values["closed_at"]) is not None:
                    values = None
            else:
                values = None
        if values is None:
            raw = {f: (cells[i].strip() if i < len(cells) else "") for f, i in plan.index.items()}
            out.append(records.convert_deal(records.Cells(line, raw, plan, tz), spec, stages))
        else:
            out.append(records.Converted(line, values, values["external_id"]))
    return out
