"""The "Log activity" modal of a nudge: the view Slack opens, and reading what was submitted.

The modal carries the nudge log id and where the nudge's message is (`private_metadata`), so
the submission can record the action and rewrite that message. Each input's block id is the
form field it holds (`FormField`), so a field's error is shown under that field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)

from commands.kit.blocks import context
from salesops_core.db.models import ActivityType
from salesops_core.nudges.activity import NOTE_MAX_CHARS, FormField, LoggedActivity, read_form

LOG_ACTIVITY_CALLBACK = "nudge_log_activity_form"
VALUE = "value"  # the action id of every input element
EXTERNAL_ATTENDEE = "external_attendee"
ACTIVITY_LABELS = {
    ActivityType.CALL: "Call",
    ActivityType.EMAIL: "Email",
    ActivityType.MEETING: "Meeting",
    ActivityType.DEMO: "Demo",
    ActivityType.ADMIN: "Admin",
    ActivityType.TRAINING: "Training",
    ActivityType.OTHER: "Other",
}


@dataclass(frozen=True)
class ModalOrigin:
    """What the modal acts on: the nudge log row and the message its buttons sit on."""

    log_id: int
    channel: str | None
    ts: str | None

    def dump(self) -> str:
        return json.dumps({"log_id": self.log_id, "channel": self.channel, "ts": self.ts})

    @classmethod
    def load(cls, metadata: str) -> ModalOrigin:
        data = json.loads(metadata)
        return cls(int(data["log_id"]), data.get("channel"), data.get("ts"))


def log_activity_view(origin: ModalOrigin, fact: str) -> dict[str, Any]:
    """The modal: what the nudge said, then type, minutes, note and a prospect checkbox."""
    blocks: list[Block] = [
        context(f"*{fact}*"),
        InputBlock(
            block_id=FormField.TYPE,
            label="What did you do?",
            element=StaticSelectElement(
                action_id=VALUE,
                placeholder="Call, email, meeting ...",
                options=[
                    Option(value=t.value, label=label) for t, label in ACTIVITY_LABELS.items()
                ],
            ),
        ),
        InputBlock(
            block_id=FormField.MINUTES,
            label="Minutes",
            optional=True,
            element=PlainTextInputElement(action_id=VALUE, placeholder="30"),
        ),
        InputBlock(
            block_id=FormField.NOTE,
            label="Note",
            optional=True,
            element=PlainTextInputElement(
                action_id=VALUE, multiline=True, max_length=NOTE_MAX_CHARS
            ),
        ),
        InputBlock(
            block_id=EXTERNAL_ATTENDEE,
            label="Who took part",
            optional=True,
            element=CheckboxesElement(
                action_id=VALUE,
                options=[Option(value="yes", label="A prospect or customer took part")],
            ),
        ),
    ]
    return {
        "type": "modal",
        "callback_id": LOG_ACTIVITY_CALLBACK,
        "private_metadata": origin.dump(),
        "title": {"type": "plain_text", "text": "Log activity"},
        "submit": {"type": "plain_text", "text": "Log it"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [block.to_dict() for block in blocks],
    }


def _input(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    return dict((values.get(block_id) or {}).get(VALUE) or {})


def read_submission(view: dict[str, Any]) -> LoggedActivity:
    """The submitted form; `InvalidActivity` (per field, keyed by block id) when it is wrong."""
    values = (view.get("state") or {}).get("values") or {}
    selected = _input(values, FormField.TYPE).get("selected_option") or {}
    checked = _input(values, EXTERNAL_ATTENDEE).get("selected_options") or []
    return read_form(
        selected.get("value"),
        _input(values, FormField.MINUTES).get("value"),
        _input(values, FormField.NOTE).get("value"),
        external_attendee=bool(checked),
    )
