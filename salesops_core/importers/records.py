"""Row converters: one CSV row (field -> text) to the values of one table row, or errors.

Owners and linked deals/leads stay as the file's text here; the loader resolves them in
bulk. Each converter returns the row's values and its upsert key. The row rules
(`deal_stage`, `closed_at_problem`, `response_problem`) take typed values, so the ingest API
applies exactly the rules a CSV row meets; every cell's text meets `limits`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from salesops_core.db.models import ActivityType, Outcome
from salesops_core.importers import limits, parsing
from salesops_core.importers.csvfile import ColumnPlan
from salesops_core.importers.formats import FormatSpec
from salesops_core.importers.stagemap import StageMap

ACTIVITY_TYPE_WORDS = {
    "call": ActivityType.CALL, "phone": ActivityType.CALL, "phone call": ActivityType.CALL,
    "log a call": ActivityType.CALL, "email": ActivityType.EMAIL, "e-mail": ActivityType.EMAIL,
    "list email": ActivityType.EMAIL, "listemail": ActivityType.EMAIL,
    "send letter": ActivityType.EMAIL, "send quote": ActivityType.EMAIL,
    "meeting": ActivityType.MEETING, "event": ActivityType.MEETING,
    "demo": ActivityType.DEMO, "demonstration": ActivityType.DEMO,
    "admin": ActivityType.ADMIN, "prep": ActivityType.ADMIN,
    "preparation": ActivityType.ADMIN, "internal": ActivityType.ADMIN,
    "training": ActivityType.TRAINING, "other": ActivityType.OTHER, "task": ActivityType.OTHER,
    "to-do": ActivityType.OTHER, "todo": ActivityType.OTHER,
}  # fmt: skip
OUTCOME_WORDS = {
    "open": Outcome.OPEN, "won": Outcome.WON, "lost": Outcome.LOST,
    "closed won": Outcome.WON, "closed lost": Outcome.LOST, "closedwon": Outcome.WON,
    "closedlost": Outcome.LOST,
}  # fmt: skip


@dataclass
class Converted:
    """One converted row: its line, values, upsert key and errors (column, reason)."""

    line: int
    values: dict[str, Any] = field(default_factory=dict)
    key: Any = None
    errors: list[tuple[str, str]] = field(default_factory=list)


class Cells:
    """Typed access to one row's cells; parse failures are recorded as (column, reason)."""

    def __init__(self, line: int, raw: dict[str, str], plan: ColumnPlan, tz: ZoneInfo) -> None:
        self.out = Converted(line)
        self.raw = raw
        self.plan = plan
        self.tz = tz

    def column(self, name: str) -> str:
        """The file's header name for a field (for messages)."""
        return self.plan.label.get(name, name)

    def fail(self, name: str, reason: str) -> None:
        """Record a problem with a field's cell."""
        self.out.errors.append((self.column(name), reason))

    def text(self, name: str, *, required: bool = False) -> str | None:
        """The cell's text, None when empty or unstorable (a control character, longer than
        its column); an empty required cell is an error."""
        value = self.raw.get(name) or None
        if value is None:
            if required:
                self.fail(name, f"{name} is required but empty")
            return None
        problem = limits.text_problem(value, limits.TEXT_LENGTHS.get(name))
        if problem is not None:
            self.fail(name, f"{name} {problem}")
            return None
        return value

    def timestamp(self, name: str, *, required: bool = False) -> datetime | None:
        """An aware UTC time stamp (a date alone is midnight in the org time zone)."""
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return parsing.parse_timestamp(value, self.tz)[0]
        except ValueError as exc:
            self.fail(name, str(exc))
            return None

    def amount(self, name: str, *, required: bool = False) -> tuple[float | None, str | None]:
        """An amount the money columns hold and the currency its symbol or code names."""
        value = self.text(name, required=required)
        if value is None:
            return None, None
        try:
            amount, currency = parsing.parse_amount(value)
        except ValueError as exc:
            self.fail(name, str(exc))
            return None, None
        problem = limits.amount_problem(amount, value.strip())
        if problem is not None:
            self.fail(name, problem)
            return None, None
        return round(amount, 2), currency

    def parsed(self, name: str, parser: Any, **kwargs: Any) -> Any:
        """The cell parsed by one of `parsing`'s functions, None when empty or bad."""
        value = self.text(name)
        if value is None:
            return None
        try:
            return parser(value, **kwargs)
        except ValueError as exc:
            self.fail(name, str(exc))
            return None


def convert_deal(cells: Cells, spec: FormatSpec, stages: StageMap) -> Converted:
    """A deal row: outcome from outcome, else IsClosed/IsWon, else the stage map."""
    plan, out, values = cells.plan, cells.out, cells.out.values
    out.key = values["external_id"] = cells.text("external_id", required=True)
    values["owner_id"] = cells.text("owner", required=True)
    stage_text = cells.text("stage", required=True)
    values["created_at"] = cells.timestamp("created_at", required=True)
    for name in ("name", "account", "product"):
        if plan.has(name):
            values[name] = cells.text(name)
    if plan.has("amount") or plan.has("currency"):
        values["amount"], symbol_currency = cells.amount("amount")
        currency = (cells.text("currency") or symbol_currency or "").upper() or None
        problem = limits.currency_problem(currency) if currency else None
        if problem is not None:
            cells.fail("currency", problem)
        values["currency"] = currency
    if plan.has("probability"):
        values["probability"] = cells.parsed(
            "probability", parsing.parse_probability, percent=spec.probability_percent
        )
    if plan.has("forecast_category"):
        category = cells.text("forecast_category")
        values["forecast_category"] = parsing.normalize_label(category) if category else None
    outcome = _explicit_outcome(cells)
    if stage_text is None:
        values["stage"], outcome = None, outcome or Outcome.OPEN
    else:
        state = deal_stage(stages, stage_text, outcome)
        if state.problem is not None:
            cells.fail("stage", state.problem)
        values["stage"], outcome = state.stage, state.outcome
    values["outcome"] = outcome
    close_date = cells.timestamp("close_date")
    closed_at = cells.timestamp("closed_at")
    if plan.has("expected_close") or plan.has("close_date"):
        values["expected_close"] = cells.timestamp("expected_close") or close_date
    if outcome == Outcome.OPEN:
        values["closed_at"] = None
    else:
        values["closed_at"] = closed_at or close_date
        problem = closed_at_problem(outcome, values["closed_at"])
        if problem is not None and not out.errors:
            cells.fail("closed_at", problem)
    return out


@dataclass(frozen=True)
class DealStage:
    """A deal's stage as stored (the stage map's spelling), its outcome, and any problem."""

    stage: str
    outcome: Outcome
    problem: str | None = None


def deal_stage(stages: StageMap, stage: str, outcome: Outcome | None) -> DealStage:
    """A deal's stage and outcome: an explicit outcome wins, else the stage map's; a stage
    the map does not know needs an explicit outcome."""
    known = stages.get(stage)
    if known is not None:
        return DealStage(known.name, outcome or known.outcome)
    if outcome is not None:
        return DealStage(stage, outcome)
    problem = (  # the CSV import's and the API's wording: a new database has no stage map
        f"unknown stage {stage!r}: it is in no stage map and has no outcome; give an outcome "
        "(open, won or lost) or add the stage with `salesops import FILE --kind deals "
        "--stage-map stages.csv` (columns stage,order,probability,outcome)"
    )
    return DealStage(stage, Outcome.OPEN, problem)


def change_stage_problem(stages: StageMap, stage: str, deal_stages: Collection[str]) -> str | None:
    """Why a stage change's stage is refused: as `deal_stage` lets a stage the map does not
    know in only with an outcome, a change may name it only once a deal is in it
    (`deal_stages`: the stages deals hold, lower case)."""
    if stages.get(stage) is not None or stage.lower() in deal_stages:
        return None
    return (
        f"unknown stage {stage!r}: it is in no stage map and no deal is in it; add the stage "
        "with `salesops import FILE --kind stage_changes --stage-map stages.csv` (columns "
        "stage,order,probability,outcome)"
    )


HISTORY_FIELDS = ("stage", "amount", "probability")  # a deal change to these is history


def stage_change(deal_id: int, values: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The stage-history row of a deal as written: its stage, amount and probability from `at`
    (its creation when new, else the time of the write); a closed deal's closing stage from
    its close, never from its creation (its stages before are not known)."""
    closed_at = values.get("closed_at")
    return {
        "deal_id": deal_id,
        "stage": values["stage"],
        "entered_at": closed_at if closed_at is not None else at,
        "amount": values.get("amount"),
        "probability": values.get("probability"),
    }


def closed_at_problem(outcome: Outcome, closed_at: datetime | None) -> str | None:
    """Why a deal's close time is missing: a won or lost deal needs one."""
    if outcome != Outcome.OPEN and closed_at is None:
        return f"a {outcome.value} deal needs closed_at (or close_date)"
    return None


def response_problem(created_at: datetime | None, responded_at: datetime | None) -> str | None:
    """Why a first response is impossible: it is before the lead was created."""
    if created_at is not None and responded_at is not None and responded_at < created_at:
        return "first_response_at is before created_at"
    return None


def _explicit_outcome(cells: Cells) -> Outcome | None:
    text = cells.text("outcome")
    if text is not None:
        outcome = OUTCOME_WORDS.get(text.lower())
        if outcome is None:
            cells.fail("outcome", f"unknown outcome {text!r}; use open, won or lost")
        return outcome
    if not cells.plan.has("is_closed"):
        return None
    closed = cells.parsed("is_closed", parsing.parse_bool)
    won = cells.parsed("is_won", parsing.parse_bool)
    if won:
        return Outcome.WON
    return Outcome.LOST if closed else Outcome.OPEN


def convert_lead(cells: Cells) -> Converted:
    """A lead row; a first response marks it responded (by `responded_by`, else the owner).

    Empty owner and first-response cells leave what is stored alone (the bot routes leads
    and records responses itself)."""
    out, values = cells.out, cells.out.values
    out.key = values["external_id"] = cells.text("external_id", required=True)
    values["created_at"] = created = cells.timestamp("created_at", required=True)
    for name in ("source", "company"):
        if cells.plan.has(name):
            values[name] = cells.text(name)
    owner = cells.text("owner")
    if owner is not None:  # an empty owner never unassigns a lead routed since
        values["owner_id"] = owner
    responded = cells.timestamp("first_response_at")
    if responded is not None:
        problem = response_problem(created, responded)
        if problem is not None:
            cells.fail("first_response_at", problem)
        values["first_response_at"] = responded
        values["responded_by_id"] = cells.text("responded_by") or values.get("owner_id")
    return out


def convert_activity(cells: Cells) -> Converted:
    """An activity row; `duration_seconds` fills `minutes` when minutes are not given."""
    out, values = cells.out, cells.out.values
    out.key = values["external_id"] = cells.text("external_id", required=True)
    values["rep_id"] = cells.text("owner", required=True)
    type_text = cells.text("type", required=True)
    if type_text is not None:
        values["type"] = ACTIVITY_TYPE_WORDS.get(" ".join(type_text.lower().split()))
        if values["type"] is None:
            allowed = ", ".join(t.value for t in ActivityType)
            cells.fail("type", f"unknown activity type {type_text!r}; use one of {allowed}")
    values["started_at"] = cells.timestamp("started_at", required=True)
    if cells.plan.has("minutes") or cells.plan.has("duration_seconds"):
        minutes = cells.parsed("minutes", parsing.parse_number)
        seconds = cells.parsed("duration_seconds", parsing.parse_number)
        values["minutes"] = (
            minutes
            if minutes is not None
            else (round(seconds / 60, 2) if seconds is not None else None)
        )
    for name, target in (("deal_external_id", "deal_id"), ("lead_external_id", "lead_id")):
        if cells.plan.has(name):
            values[target] = cells.text(name)
    if cells.plan.has("external_attendee"):
        values["external_attendee"] = bool(cells.parsed("external_attendee", parsing.parse_bool))
    return out


def convert_quota(cells: Cells, *, forecast: bool = False) -> Converted:
    """A quota (or forecast) row, keyed on owner + period (+ category + submitted_at)."""
    out, values = cells.out, cells.out.values
    values["rep_id"] = cells.text("owner", required=True)
    values["period_start"] = start = cells.timestamp("period_start", required=True)
    end_text = cells.text("period_end", required=True)
    end = None
    if end_text is not None:
        try:
            end = parsing.parse_period_end(end_text, cells.tz)
        except ValueError as exc:
            cells.fail("period_end", str(exc))
    values["period_end"] = end
    if start is not None and end is not None and end <= start:
        cells.fail("period_end", "period_end is not after period_start")
    values["amount"] = cells.amount("amount", required=True)[0]
    out.key = (values["rep_id"], start, end)
    if forecast:
        category = cells.text("category")
        values["category"] = parsing.normalize_label(category) if category else "commit"
        values["submitted_at"] = cells.timestamp("submitted_at", required=True)
        out.key = (*out.key, values["category"], values["submitted_at"])
    return out


def convert_stage_change(cells: Cells, spec: FormatSpec, stages: StageMap) -> Converted:
    """A deal's stage change, keyed on deal + entered_at (one stage at a time); the stage in
    the stage map's spelling (the loader checks stages the map does not know, finds the deal)."""
    out, values = cells.out, cells.out.values
    values["deal_id"] = deal = cells.text("deal_external_id", required=True)
    stage = cells.text("stage", required=True)
    known = stages.get(stage) if stage is not None else None
    values["stage"] = known.name if known is not None else stage
    values["entered_at"] = cells.timestamp("entered_at", required=True)
    if cells.plan.has("amount"):
        values["amount"] = cells.amount("amount")[0]
    if cells.plan.has("probability"):
        values["probability"] = cells.parsed(
            "probability", parsing.parse_probability, percent=spec.probability_percent
        )
    out.key = (deal, values["entered_at"])
    return out
