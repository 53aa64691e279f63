"""Forecast submissions: which quarters are open to submit, the checked form, the write (one
"commit" and one "best_case" row per submission; a resubmission adds rows) and the latest
submission of a rep or of a team (a manager's team call)."""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.db.models import Forecast, Rep
from salesops_core.errors import NotAllowed, SalesopsError, UnknownPeriod
from salesops_core.importers.limits import CONTROL_CHARACTERS, amount_problem
from salesops_core.importers.parsing import parse_amount
from salesops_core.kpi.queries import DEFAULT_FORECAST_CATEGORY
from salesops_core.org.access import Viewer, can_view
from salesops_core.org.scopes import team_scope_by_id
from salesops_core.periods import Period, parse_period, quarter_containing

COMMIT = DEFAULT_FORECAST_CATEGORY
BEST_CASE = "best_case"
NOTE_MAX_CHARS = 2000
AMOUNT_EXAMPLE = "e.g. 250000, $250,000, 250k or 1.2M"
_SUFFIX = re.compile(r"^(?P<number>.*?\d)\s*(?P<unit>[kKmMbB])(?P<after>\s*[A-Za-z]{3})?$")
_UNITS = {"k": 1e3, "m": 1e6, "b": 1e9}

log = logging.getLogger(__name__)


class FormField(enum.StrEnum):
    """The fields of the forecast form, as its errors name them (the modal's block ids)."""

    PERIOD = "period"
    COMMIT = "commit"
    BEST_CASE = "best_case"
    NOTE = "note"


class InvalidForecast(SalesopsError):
    """What is wrong with the form, per field (messages safe to show next to the field)."""

    def __init__(self, errors: dict[FormField, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ForecastEntry:
    """A checked form: the quarter, commit, best case (optional) and note (optional)."""

    period: Period
    commit: float
    best_case: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class Submission:
    """The latest submission for a period (a rep's own, or a team call), and how many there
    were: `previous_commit` is the commit of the one before it, if any."""

    commit: float
    best_case: float | None
    note: str | None
    submitted_at: datetime
    submitted_by: str  # the name of the rep who submitted it
    count: int
    previous_commit: float | None = None
    previous_at: datetime | None = None


def parse_money(text: str) -> float:
    """An amount a person types: `250000`, `$250,000`, `250k`, `$1.2M` (dollars); ValueError
    with the reason otherwise (not a number, another currency, negative, too large)."""
    raw, scale = text.strip(), 1.0
    if suffix := _SUFFIX.match(raw):
        raw = suffix["number"] + (suffix["after"] or "")
        scale = _UNITS[suffix["unit"].lower()]
    try:
        value, currency = parse_amount(raw)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not an amount; {AMOUNT_EXAMPLE}") from None
    if currency not in (None, "USD"):
        raise ValueError(f"forecasts are in dollars; type the amount without {currency}")
    value = round(value * scale, 2)
    problem = amount_problem(value, text.strip())
    if problem is not None:
        raise ValueError(problem)
    return value


def open_quarters(now: datetime, org: OrgConfig) -> tuple[Period, Period]:
    """The quarter running at `now` and the next one: the quarters a forecast may be for."""
    current = quarter_containing(now.astimezone(org.tz).date(), org.tz, org.fiscal_year_start_month)
    following = quarter_containing(current.end.date(), org.tz, org.fiscal_year_start_month)
    return current, following


def default_quarter(now: datetime, org: OrgConfig) -> Period:
    """The quarter `/forecast submit` offers first: the running one until its cut-off (while a
    forecast for it still counts for accuracy), else the next one."""
    current, following = open_quarters(now, org)
    return current if now < org.forecast_cutoff(current) else following


def forecast_quarter(period: Period, org: OrgConfig, what: str = "forecasts") -> Period:
    """`period` as the fiscal quarter it is, labelled by its name alone (`2027-Q1`, not
    `this-quarter (2027-Q1)`); UnknownPeriod ("`what` are per quarter") if it is no quarter."""
    quarter = quarter_containing(period.start.date(), org.tz, org.fiscal_year_start_month)
    if period.kind != "quarter":
        raise UnknownPeriod(
            f"{what} are per quarter; {period.label} is not one (e.g. {quarter.label})"
        )
    return quarter


def quarter_named(label: str, org: OrgConfig, now: datetime) -> Period:
    """The quarter a period word names (`2027-Q1`, `this-quarter`), labelled by its name alone;
    UnknownPeriod if the word is no period or the period no quarter."""
    period = parse_period(
        label, tz=org.tz, fiscal_year_start_month=org.fiscal_year_start_month, now=now
    )
    return forecast_quarter(period, org)


def _amount(text: str | None, field: FormField, errors: dict[FormField, str]) -> float | None:
    if not (text or "").strip():
        if field == FormField.COMMIT:
            errors[field] = f"type your commit, {AMOUNT_EXAMPLE}"
        return None
    try:
        return parse_money(text or "")
    except ValueError as exc:
        errors[field] = str(exc)
        return None


def read_form(
    period_label: str | None,
    commit_text: str | None,
    best_case_text: str | None,
    note: str | None,
    *,
    org: OrgConfig,
    now: datetime,
) -> ForecastEntry:
    """The form as a `ForecastEntry`; `InvalidForecast` names every field that is wrong."""
    errors: dict[FormField, str] = {}
    period: Period | None = None
    try:
        period = quarter_named(period_label or "", org, now)
    except UnknownPeriod as exc:
        errors[FormField.PERIOD] = str(exc) if period_label else "choose the quarter"
    if period is not None and period.end <= now:
        errors[FormField.PERIOD] = f"{period.label} has ended; forecast a quarter still to come"
    commit = _amount(commit_text, FormField.COMMIT, errors)
    best_case = _amount(best_case_text, FormField.BEST_CASE, errors)
    if commit is not None and best_case is not None and best_case < commit:
        errors[FormField.BEST_CASE] = "the best case cannot be below the commit"
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX_CHARS:
        errors[FormField.NOTE] = f"at most {NOTE_MAX_CHARS:,} characters"
    elif note is not None and CONTROL_CHARACTERS.search(re.sub(r"[\n\r\t]", "", note)):
        errors[FormField.NOTE] = "the note holds a control character; retype it"
    if errors or period is None or commit is None:
        raise InvalidForecast(errors)
    return ForecastEntry(period, commit, best_case, note)


def check_team_call(session: Session, viewer: Viewer, team_id: int) -> str:
    """The team's name, when `viewer` may make its call (its manager or an admin); NotAllowed
    otherwise."""
    scope = team_scope_by_id(session, team_id)
    if can_view(session, viewer, scope):
        return scope.name
    log.warning("team call refused: rep_id=%s role=%s for team %s", viewer.rep_id,
                viewer.role.value, team_id)  # fmt: skip
    raise NotAllowed(
        f"Sorry, only {scope.name}'s manager or a sales-ops admin can submit its team call. "
        "Your own forecast: `/forecast submit`."
    )


def submit_forecast(
    session: Session,
    viewer: Viewer,
    entry: ForecastEntry,
    at: datetime,
    team_id: int | None = None,
) -> str | None:
    """Write `viewer`'s submission (a team call when `team_id` is given, access checked again
    here): a commit row and, with a best case, a best_case row, both at `at` with the note.

    Returns the team's name for a team call."""
    team = check_team_call(session, viewer, team_id) if team_id is not None else None
    amounts = {COMMIT: entry.commit, BEST_CASE: entry.best_case}
    session.add_all(
        Forecast(
            rep_id=viewer.rep_id,
            team_id=team_id,
            period_start=entry.period.start,
            period_end=entry.period.end,
            category=category,
            amount=amount,
            submitted_at=at,
            note=entry.note,
        )
        for category, amount in amounts.items()
        if amount is not None
    )
    session.flush()
    return team


def latest_submission(
    session: Session,
    period: Period,
    now: datetime,
    *,
    rep_id: int | None = None,
    team_id: int | None = None,
) -> Submission | None:
    """The last submission before `now` for exactly `period`: the rep's own (`rep_id`) or the
    team's call (`team_id`); None when there is none."""
    whose = Forecast.team_id == team_id if team_id is not None else Forecast.team_id.is_(None)
    if team_id is None:
        whose = whose & (Forecast.rep_id == rep_id)
    where = (
        whose,
        Forecast.period_start == period.start,
        Forecast.period_end == period.end,
        Forecast.submitted_at < now,
    )
    commits = select(Forecast).where(*where, Forecast.category == COMMIT)
    count = session.scalar(select(func.count()).select_from(commits.subquery())) or 0
    if not count:
        return None
    latest = commits.add_columns(Rep.name).join(Rep, Rep.id == Forecast.rep_id)
    (last, submitter), *before = session.execute(
        latest.order_by(Forecast.submitted_at.desc(), Forecast.id.desc()).limit(2)
    ).all()
    best_case = session.scalar(
        select(Forecast.amount).where(
            *where,
            Forecast.category == BEST_CASE,
            Forecast.submitted_at == last.submitted_at,
            Forecast.rep_id == last.rep_id,
        )
    )
    previous = before[0][0] if before else None
    return Submission(
        commit=float(last.amount),
        best_case=None if best_case is None else float(best_case),
        note=last.note,
        submitted_at=last.submitted_at,
        submitted_by=submitter,
        count=count,
        previous_commit=float(previous.amount) if previous else None,
        previous_at=previous.submitted_at if previous else None,
    )
