"""The lead DM's buttons: Contacted, Snooze 15 min, Reassign.

Each press is acked at once; the work (one transaction in a worker thread) runs as a lazy
listener wrapped by `guarded`, so a failure still tells the user. The message the button
sits on is then rewritten with `chat.update`. Every button stops the ladder: Contacted for
good, Snooze for 15 minutes, Reassign by handing the lead on (the new owner gets a DM).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.listeners.errors import guarded
from salesops_core.db.engine import transaction
from salesops_core.db.models import Lead, LeadStatus
from salesops_core.leads.engine import LeadRules, lock_lead, reassign, record_response, snooze
from salesops_core.leads import messages as lead_messages
from salesops_core.org.identity import rep_by_slack_id
from salesops_core.timeutil import utcnow


@dataclass(frozen=True)
class Outcome:
    """What to put on the pressed message."""

    message: dict[str, Any]


def _lead_id(body: dict[str, Any]) -> int:
    return int(body["actions"][0]["value"])


def _where(body: dict[str, Any]) -> tuple[str, str]:
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return str(channel), str(ts)


def _answered_note(lead: Lead) -> dict[str, Any]:
    when = f"{lead.first_response_at:%Y-%m-%d %H:%M} UTC" if lead.first_response_at else "earlier"
    return lead_messages.lead_dm_resolved(lead, f"Already answered ({when}).")


def press(deps: Deps, rules: LeadRules, action: str, lead_id: int, slack_user: str) -> Outcome:
    """Apply one button press to the lead (one transaction) and say what the message becomes."""
    with transaction(deps.sessions) as session:
        lead = lock_lead(session, lead_id)
        if lead is None:
            return Outcome({"text": "This lead no longer exists.", "blocks": []})
        if lead.status != LeadStatus.OPEN:
            return Outcome(_answered_note(lead))
        now = utcnow()
        presser = rep_by_slack_id(session, slack_user)
        if action == lead_messages.ACTION_CONTACTED:
            record_response(session, lead, rep=presser, at=now)
            return Outcome(
                lead_messages.lead_dm_resolved(
                    lead, f"Contacted by <@{slack_user}> at {now:%H:%M} UTC."
                )
            )
        if action == lead_messages.ACTION_SNOOZE:
            until = snooze(session, lead, now=now)
            return Outcome(
                lead_messages.lead_dm_with_note(
                    lead, f":zzz: Snoozed by <@{slack_user}> until {until:%H:%M} UTC."
                )
            )
        new_owner = reassign(session, rules, lead, reason="manual", now=now)
        if new_owner is None:
            return Outcome(
                lead_messages.lead_dm_with_note(
                    lead, ":warning: Nobody else is available to take this lead right now."
                )
            )
        return Outcome(
            lead_messages.lead_dm_resolved(
                lead, f"Reassigned to {new_owner.name} by <@{slack_user}>."
            )
        )


def register(app: AsyncApp, deps: Deps) -> None:
    """Register the three lead buttons on the app."""
    rules = LeadRules(org=deps.settings.org, policies=list(deps.settings.sla))

    async def acknowledge(ack: AsyncAck) -> None:
        await ack()

    async def handle(body: dict[str, Any], client: AsyncWebClient) -> None:
        action = body["actions"][0]["action_id"]
        outcome = await asyncio.to_thread(
            press, deps, rules, action, _lead_id(body), body["user"]["id"]
        )
        channel, ts = _where(body)
        message = outcome.message
        await client.chat_update(
            channel=channel, ts=ts, text=message["text"], blocks=message.get("blocks") or []
        )

    for action_id in (
        lead_messages.ACTION_CONTACTED,
        lead_messages.ACTION_SNOOZE,
        lead_messages.ACTION_REASSIGN,
    ):
        app.action(action_id)(ack=acknowledge, lazy=[guarded(handle)])
