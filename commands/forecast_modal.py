"""The "Submit forecast" modal: the view Slack opens, reading what was submitted, and the
private confirmation.

The modal carries where to confirm (the channel the command came from) and, for a team call,
the team (`private_metadata`); never who submits: that is the user of the verified request.
Each input's block id is the form field it holds (`FormField`), so a field's error is shown
under that field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)

from commands.kit.blocks import context
from commands.kit.slack_time import slack_time
from salesops_core.config import OrgConfig
from salesops_core.forecast.submissions import (
    AMOUNT_EXAMPLE,
    NOTE_MAX_CHARS,
    ForecastEntry,
    FormField,
    read_form,
)
from salesops_core.kpi import format as f
from salesops_core.periods import Period

FORECAST_CALLBACK = "forecast_submit_form"
VALUE = "value"  # the action id of every input element


@dataclass(frozen=True)
class FormOrigin:
    """Where the form was opened (the channel to confirm in) and the team of a team call."""

    channel: str | None = None
    team_id: int | None = None

    def dump(self) -> str:
        return json.dumps({"channel": self.channel, "team_id": self.team_id})

    @classmethod
    def load(cls, metadata: str) -> FormOrigin:
        data = json.loads(metadata or "{}")
        team_id = data.get("team_id")
        return cls(data.get("channel"), int(team_id) if team_id is not None else None)


@dataclass(frozen=True)
class ForecastForm:
    """What the form offers: the quarters open to a forecast, the one chosen first, and the
    team for a team call (None: the viewer's own forecast)."""

    quarters: tuple[Period, ...]
    chosen: Period
    team_id: int | None = None
    team: str | None = None


def _counts_until(period: Period, org: OrgConfig, now: datetime) -> str:
    cutoff = org.forecast_cutoff(period)
    when = slack_time(cutoff, org.timezone)
    if now < cutoff:
        return f"*{period.label}*: counts for accuracy if submitted before {when}"
    return (
        f"*{period.label}*: its cut-off ({when}) has passed, so a forecast now no longer "
        "counts for its accuracy"
    )


def _option(period: Period, now: datetime) -> Option:
    when = (
        "this quarter" if period.is_current(now) else f"starts {period.start:%b} {period.start.day}"
    )
    return Option(value=period.label, label=f"{period.label} ({when})")


def forecast_view(
    form: ForecastForm, origin: FormOrigin, org: OrgConfig, now: datetime
) -> dict[str, Any]:
    """The modal: whose forecast, the quarter (with each one's cut-off), commit, best case and
    a note."""
    options = [_option(period, now) for period in form.quarters]
    chosen = options[form.quarters.index(form.chosen)]
    whose = (
        f"Team call for *{form.team}*: your call for the team, shown next to the sum of its "
        "reps' commits (their own forecasts and accuracy do not change)."
        if form.team
        else "Your commit and best case. Resubmitting adds a new submission; the last one "
        "before a quarter's cut-off counts for its accuracy."
    )
    blocks: list[Block] = [
        context(whose),
        InputBlock(
            block_id=FormField.PERIOD,
            label="Quarter",
            element=StaticSelectElement(action_id=VALUE, options=options, initial_option=chosen),
        ),
        context(*(_counts_until(period, org, now) for period in form.quarters)),
        InputBlock(
            block_id=FormField.COMMIT,
            label="Commit",
            hint=f"What you are confident will close won in the quarter, {AMOUNT_EXAMPLE}",
            element=PlainTextInputElement(action_id=VALUE, placeholder="250k"),
        ),
        InputBlock(
            block_id=FormField.BEST_CASE,
            label="Best case",
            optional=True,
            hint="If the deals that could go either way close too; at least the commit",
            element=PlainTextInputElement(action_id=VALUE, placeholder="320k"),
        ),
        InputBlock(
            block_id=FormField.NOTE,
            label="Note",
            optional=True,
            element=PlainTextInputElement(
                action_id=VALUE,
                multiline=True,
                max_length=NOTE_MAX_CHARS,
                placeholder="What the call rests on: key deals, risks",
            ),
        ),
    ]
    return {
        "type": "modal",
        "callback_id": FORECAST_CALLBACK,
        "private_metadata": origin.dump(),
        "title": {"type": "plain_text", "text": "Team call" if form.team else "Submit forecast"},
        "submit": {"type": "plain_text", "text": "Submit"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [block.to_dict() for block in blocks],
    }


def _input(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    return dict((values.get(block_id) or {}).get(VALUE) or {})


def read_submission(view: dict[str, Any], org: OrgConfig, now: datetime) -> ForecastEntry:
    """The submitted form; `InvalidForecast` (per field, keyed by block id) when it is wrong."""
    values = (view.get("state") or {}).get("values") or {}
    selected = _input(values, FormField.PERIOD).get("selected_option") or {}
    return read_form(
        selected.get("value"),
        _input(values, FormField.COMMIT).get("value"),
        _input(values, FormField.BEST_CASE).get("value"),
        _input(values, FormField.NOTE).get("value"),
        org=org,
        now=now,
    )


def confirmation(entry: ForecastEntry, team: str | None, org: OrgConfig, now: datetime) -> str:
    """What the submitter is told privately once the forecast is recorded."""
    amounts = f"Commit {f.money(entry.commit, exact=True)}"
    if entry.best_case is not None:
        amounts += f" and best case {f.money(entry.best_case, exact=True)}"
    label = entry.period.label
    if team is not None:
        return (
            f"Team call for {team}: {amounts.lower()} for {label} recorded. "
            f"`/forecast team {label}` shows it next to the reps' commits."
        )
    cutoff = org.forecast_cutoff(entry.period)
    when = slack_time(cutoff, org.timezone)
    shows = f"`/forecast {label}` shows it."
    if now < cutoff:
        return f"{amounts} for {label} recorded. It counts for accuracy until {when}. {shows}"
    return (
        f"{amounts} for {label} recorded. Its cut-off for accuracy ({when}) has passed, so "
        f"accuracy keeps your last commit from before then. {shows}"
    )
