"""What the bot says about leads, as Block Kit JSON (plain dicts: core never imports Slack)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from salesops_core.db.models import Lead, Rep

ACTION_CONTACTED = "lead_contacted"
ACTION_SNOOZE = "lead_snooze"
ACTION_REASSIGN = "lead_reassign"
SNOOZE_MINUTES = 15.0


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "n/a"
    epoch = int(moment.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def _title(lead: Lead) -> str:
    company = lead.company or "(no company)"
    source = f" from {lead.source}" if lead.source else ""
    return f"*{company}*{source} · `{lead.external_id}`"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _buttons(lead: Lead) -> dict[str, Any]:
    value = str(lead.id)

    def button(text: str, action_id: str, style: str | None = None) -> dict[str, Any]:
        element: dict[str, Any] = {
            "type": "button",
            "text": {"type": "plain_text", "text": text},
            "action_id": action_id,
            "value": value,
        }
        if style:
            element["style"] = style
        return element

    return {
        "type": "actions",
        "block_id": f"lead_{lead.id}",
        "elements": [
            button("Contacted", ACTION_CONTACTED, "primary"),
            button(f"Snooze {SNOOZE_MINUTES:g} min", ACTION_SNOOZE),
            button("Reassign", ACTION_REASSIGN),
        ],
    }


def new_lead_dm(lead: Lead) -> dict[str, Any]:
    """The owner's DM for a new (or newly assigned) lead, with the action buttons."""
    text = f"New lead: {lead.company or lead.external_id}"
    if lead.sla_due_at is not None:
        text += f" — respond by {lead.sla_due_at:%H:%M} UTC"
    return {
        "text": text,
        "blocks": [
            _section(f":zap: New lead for you: {_title(lead)}"),
            _section(f"Respond by {_when(lead.sla_due_at)}."),
            _buttons(lead),
        ],
    }


def rep_reminder(lead: Lead) -> dict[str, Any]:
    """Ladder step 1: remind the owner that the lead is still waiting."""
    text = f"Reminder: lead {lead.company or lead.external_id} is still waiting for you"
    return {
        "text": text,
        "blocks": [
            _section(
                f":alarm_clock: Still waiting: {_title(lead)}\n"
                f"Response was due {_when(lead.sla_due_at)}."
            ),
            _buttons(lead),
        ],
    }


def manager_alert(lead: Lead, owner: Rep | None) -> dict[str, Any]:
    """Ladder step 2: tell the owner's manager the lead has had no response."""
    who = owner.name if owner else "nobody"
    text = f"Lead {lead.company or lead.external_id} owned by {who} has had no response"
    return {
        "text": text,
        "blocks": [
            _section(
                f":rotating_light: No response yet: {_title(lead)}\n"
                f"Owner: {who}. Response was due {_when(lead.sla_due_at)}."
            )
        ],
    }


def reassigned_notice(lead: Lead, new_owner: Rep | None) -> dict[str, Any]:
    """Ladder step 3 (or the Reassign button): tell the previous owner where the lead went."""
    who = new_owner.name if new_owner else "nobody (no rep available)"
    text = f"Lead {lead.company or lead.external_id} was reassigned to {who}"
    return {"text": text, "blocks": [_section(f":arrows_counterclockwise: {text}.")]}


def lead_dm_resolved(lead: Lead, status_line: str) -> dict[str, Any]:
    """The lead DM after a button press: the lead and what happened, without buttons."""
    return {
        "text": f"{lead.company or lead.external_id}: {status_line}",
        "blocks": [_section(f"{_title(lead)}\n:white_check_mark: {status_line}")],
    }


def lead_dm_with_note(lead: Lead, note: str) -> dict[str, Any]:
    """The lead DM with its buttons and a note (after a snooze, or when nobody could take it)."""
    message = new_lead_dm(lead)
    note_block = {"type": "context", "elements": [{"type": "mrkdwn", "text": note[:3000]}]}
    message["blocks"] = [*message["blocks"][:-1], note_block, message["blocks"][-1]]
    return message
