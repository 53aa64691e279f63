"""The lead DM's buttons: Contacted, Snooze 15 min, Reassign.

Each press is acked at once; the work (one transaction) runs on the worker pool as the
presser's rep (`run_as_slack_user`) in a lazy listener wrapped by `guarded`, like a slash
command, so a failure or a refusal still tells the presser privately and every press is
counted. Only the lead's owner, their manager or an admin may act (`require_act_for`); anyone
else is refused and nothing changes. The message the button sits on is then rewritten with
`chat.update`. Every button stops the ladder: Contacted for good, Snooze for 15 minutes,
Reassign by handing the lead on (the new owner gets a DM).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.listeners.errors import guarded
from bot.slack_users import run_as_slack_user
from commands.kit.message import SlackMessage
from commands.notices import ACTION_IDS, ACTIONS_BY_ID, LEAD_GONE, lead_dm
from salesops_core.db.models import Lead, LeadStatus, Rep
from salesops_core.leads.engine import lock_lead, reassign, record_response, snooze
from salesops_core.leads.notices import LeadAction, LeadDmUpdate, LeadFacts
from salesops_core.org.access import Viewer, require_act_for
from salesops_core.timeutil import utcnow


def _already_answered(lead: Lead) -> LeadDmUpdate:
    when = f"{lead.first_response_at:%Y-%m-%d %H:%M} UTC" if lead.first_response_at else "earlier"
    return LeadDmUpdate(LeadFacts.of(lead), f"Already answered ({when}).")


def press(
    deps: Deps, session: Session, viewer: Viewer, action: LeadAction, lead_id: int, slack_user: str
) -> LeadDmUpdate | None:
    """Apply one button press by `viewer` to the lead and say what the DM now reads; None when
    the lead no longer exists. Only the lead's owner, their manager or an admin may act:
    anyone else gets NotAllowed and nothing changes."""
    lead = lock_lead(session, lead_id)
    if lead is None:
        return None
    facts = LeadFacts.of(lead)
    require_act_for(session, viewer, lead.owner_id, f"the lead {facts.name}")
    if lead.status != LeadStatus.OPEN:
        return _already_answered(lead)
    now = utcnow()
    if action == LeadAction.CONTACTED:
        record_response(session, lead, rep=session.get(Rep, viewer.rep_id), at=now)
        return LeadDmUpdate(facts, f"Contacted by <@{slack_user}> at {now:%H:%M} UTC.")
    if action == LeadAction.SNOOZE:
        until = snooze(session, lead, now=now)
        note = f":zzz: Snoozed by <@{slack_user}> until {until:%H:%M} UTC."
        return LeadDmUpdate(facts, note, still_open=True)
    new_owner = reassign(session, deps.lead_rules(), lead, reason="manual", now=now)
    if new_owner is None:
        note = ":warning: Nobody else is available to take this lead right now."
        return LeadDmUpdate(facts, note, still_open=True)
    return LeadDmUpdate(facts, f"Reassigned to {new_owner.name} by <@{slack_user}>.")


async def acknowledge(ack: AsyncAck) -> None:
    """Ack the press within Slack's 3 s; the message is rewritten afterwards."""
    await ack()


async def answer_lead_action(deps: Deps, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Apply the press on the worker pool as the presser's rep, then rewrite the pressed
    message (a refusal is told privately, and the message is left as it was)."""
    pressed = body["actions"][0]
    action, lead_id = ACTIONS_BY_ID[pressed["action_id"]], int(pressed["value"])
    user = body["user"]["id"]
    update = await run_as_slack_user(
        deps,
        client,
        user,
        lambda session, viewer: press(deps, session, viewer, action, lead_id, user),
    )
    message: SlackMessage = LEAD_GONE if update is None else lead_dm(update)
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    await client.chat_update(
        channel=str(channel), ts=str(ts), text=message.text, blocks=message.blocks
    )


def count_press(deps: Deps, args: AsyncArgs, outcome: str) -> None:
    """Count one handled button press by action and outcome (ok, user_error, ...)."""
    deps.metrics.actions.labels(args.body["actions"][0]["action_id"], outcome).inc()


def register(app: AsyncApp, deps: Deps) -> None:
    """Register the three lead buttons on the app."""
    answer = guarded(answer_lead_action, deps, on_outcome=count_press)
    for action_id in ACTION_IDS.values():
        app.action(action_id)(ack=acknowledge, lazy=[answer])
