"""Notices as Slack messages: Block Kit and fallback text for every kind the outbox holds.

The core records that someone must be told, and the facts (`salesops_core.leads.notices`);
this module decides how that reads in Slack, when the dispatcher sends it (`render`) or a
button rewrites its own message (`lead_dm`). The lead buttons' action ids live here too, so
the listener that answers them reads the same names the messages carry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from commands.kit.blocks import context, section
from salesops_core.leads.notices import (
    SNOOZE_MINUTES,
    LeadAction,
    LeadDmUpdate,
    LeadFacts,
    LeadReassigned,
    LeadReminder,
    ManagerAlert,
    NewLead,
)
from salesops_core.outbox import NoticeKind, read_notice

ACTION_IDS = {
    LeadAction.CONTACTED: "lead_contacted",
    LeadAction.SNOOZE: "lead_snooze",
    LeadAction.REASSIGN: "lead_reassign",
}
ACTIONS_BY_ID = {action_id: action for action, action_id in ACTION_IDS.items()}


@dataclass(frozen=True)
class SlackMessage:
    """A message ready for chat.postMessage / chat.update: fallback text and blocks (JSON)."""

    text: str
    blocks: list[dict[str, Any]]


LEAD_GONE = SlackMessage("This lead no longer exists.", [])


def _message(text: str, blocks: list[Block]) -> SlackMessage:
    return SlackMessage(text, [block.to_dict() for block in blocks])


def _when(moment: datetime | None) -> str:
    """A time every reader sees in their own time zone (Slack date formatting), UTC fallback."""
    if moment is None:
        return "n/a"
    epoch = int(moment.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def _title(lead: LeadFacts) -> str:
    company = lead.company or "(no company)"
    source = f" from {lead.source}" if lead.source else ""
    return f"*{company}*{source} · `{lead.external_id}`"


def _buttons(lead: LeadFacts) -> ActionsBlock:
    labels = {
        LeadAction.CONTACTED: "Contacted",
        LeadAction.SNOOZE: f"Snooze {SNOOZE_MINUTES:g} min",
        LeadAction.REASSIGN: "Reassign",
    }
    return ActionsBlock(
        block_id=f"lead_{lead.lead_id}",
        elements=[
            ButtonElement(
                text=label,
                action_id=ACTION_IDS[action],
                value=str(lead.lead_id),
                style="primary" if action == LeadAction.CONTACTED else None,
            )
            for action, label in labels.items()
        ],
    )


def _new_lead_blocks(lead: LeadFacts) -> list[Block]:
    return [
        section(f":zap: New lead for you: {_title(lead)}"),
        section(f"Respond by {_when(lead.respond_by)}."),
    ]


def new_lead(notice: NewLead) -> SlackMessage:
    """The owner's DM for a new (or newly assigned) lead, with the action buttons."""
    lead = notice.lead
    text = f"New lead: {lead.name}"
    if lead.respond_by is not None:
        text += f" — respond by {lead.respond_by:%H:%M} UTC"
    return _message(text, [*_new_lead_blocks(lead), _buttons(lead)])


def lead_reminder(notice: LeadReminder) -> SlackMessage:
    """Ladder step 1: the lead is still waiting for its owner."""
    lead = notice.lead
    return _message(
        f"Reminder: lead {lead.name} is still waiting for you",
        [
            section(
                f":alarm_clock: Still waiting: {_title(lead)}\n"
                f"Response was due {_when(lead.respond_by)}."
            ),
            _buttons(lead),
        ],
    )


def manager_alert(notice: ManagerAlert) -> SlackMessage:
    """Ladder step 2: the owner's manager hears the lead has had no response."""
    lead, who = notice.lead, notice.owner or "nobody"
    return _message(
        f"Lead {lead.name} owned by {who} has had no response",
        [
            section(
                f":rotating_light: No response yet: {_title(lead)}\n"
                f"Owner: {who}. Response was due {_when(lead.respond_by)}."
            )
        ],
    )


def lead_reassigned(notice: LeadReassigned) -> SlackMessage:
    """The previous owner hears where the lead went."""
    text = f"Lead {notice.lead.name} was reassigned to {notice.new_owner}"
    return _message(text, [section(f":arrows_counterclockwise: {text}.")])


def lead_dm(update: LeadDmUpdate) -> SlackMessage:
    """The lead DM as it reads now: still open (actions kept, the status as a note) or done."""
    lead = update.lead
    if update.still_open:
        blocks = [*_new_lead_blocks(lead), context(update.status), _buttons(lead)]
        return _message(new_lead(NewLead(lead)).text, blocks)
    return _message(
        f"{lead.name}: {update.status}",
        [section(f"{_title(lead)}\n:white_check_mark: {update.status}")],
    )


N = TypeVar("N")


def _renderer(notice_type: type[N], draw: Callable[[N], SlackMessage]) -> Callable[..., Any]:
    return lambda payload: draw(read_notice(notice_type, payload))


RENDERERS: dict[NoticeKind, Callable[[dict[str, Any]], SlackMessage]] = {
    NoticeKind.NEW_LEAD: _renderer(NewLead, new_lead),
    NoticeKind.LEAD_REMINDER: _renderer(LeadReminder, lead_reminder),
    NoticeKind.MANAGER_ALERT: _renderer(ManagerAlert, manager_alert),
    NoticeKind.LEAD_REASSIGNED: _renderer(LeadReassigned, lead_reassigned),
    NoticeKind.LEAD_DM_UPDATE: _renderer(LeadDmUpdate, lead_dm),
}


class UnreadableNotice(ValueError):
    """A stored notice of an unknown kind, or whose facts do not fit its kind."""


def render(kind: str, payload: dict[str, Any]) -> SlackMessage:
    """The Slack message for a stored notice (its kind and its facts as stored)."""
    try:
        return RENDERERS[NoticeKind(kind)](payload)
    except ValueError as exc:  # an unknown kind, or facts that fail validation
        raise UnreadableNotice(f"unreadable {kind!r} notice: {exc}") from exc
