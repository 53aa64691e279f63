"""A nudge's buttons, and its "Log activity" modal.

Every press is acked at once; the work runs as the presser's rep on the worker pool (one
transaction, `run_as_slack_user`), wrapped by `guarded`, so a failure or a refusal still tells
the presser privately. Only the nudge's owner, their manager or an admin may act on it
(`nudge_for_actor`, the rule of `org.access.require_act_for`): anyone else is refused (for the
modal, before it opens) and nothing changes.

What each press does: Snooze and Not relevant are recorded and the message says so instead of
its buttons; Open in CRM (a link Slack opens) is recorded; Log activity opens the modal, and
the submission writes the activity (on the nudge's deal), records the press and rewrites the
message. The modal's field errors come back in the modal, in the ack. Submit forecast (recorded
as it opens the forecast modal) is `bot.listeners.forecast_actions`'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.listeners.errors import guarded
from bot.slack_users import run_as_slack_user
from commands.activity_modal import (
    ACTIVITY_LABELS,
    LOG_ACTIVITY_CALLBACK,
    ModalOrigin,
    log_activity_view,
    read_submission,
)
from commands.kit.message import SlackMessage
from commands.notices import (
    NUDGE_ACTION_IDS,
    NUDGE_ACTIONS_BY_ID,
    logged_status,
    muted_status,
    nudge_done,
    snoozed_status,
)
from salesops_core.nudges.activity import InvalidActivity, LoggedActivity, log_activity
from salesops_core.nudges.facts import Action
from salesops_core.nudges.log import record_action
from salesops_core.nudges.people import load_people
from salesops_core.nudges.policy import next_working_start
from salesops_core.nudges.sent import nudge_for_actor
from salesops_core.org.access import Viewer
from salesops_core.timeutil import utcnow


@dataclass(frozen=True)
class Pressed:
    """What a press leads to: the nudge's message rewritten, and/or a private reply."""

    update: SlackMessage | None = None
    reply: str | None = None


def press(deps: Deps, session: Session, viewer: Viewer, action: Action, log_id: int) -> Pressed:
    """Record the press of `action` on nudge `log_id` by `viewer` (refused unless they may act
    for its owner)."""
    now = utcnow()
    sent = nudge_for_actor(session, log_id, viewer)
    row = record_action(session, log_id, action, viewer.rep_id, now)
    if action in (Action.SNOOZE_DAY, Action.SNOOZE_WEEK) and row.snoozed_until is not None:
        settings, owner_id = deps.settings, sent.nudge.rep_id
        person = load_people(session, settings.nudges, settings.org, owner_id).get(owner_id)
        # back at the owner's next working hour; an owner now away or gone: the snooze's end
        back = next_working_start(person, row.snoozed_until) if person else row.snoozed_until
        return Pressed(update=nudge_done(sent.nudge, snoozed_status(back)))
    if action == Action.NOT_RELEVANT:
        return Pressed(update=nudge_done(sent.nudge, muted_status(sent.nudge)))
    return Pressed()  # Open in CRM: the link opened; the press is recorded


def message_location(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The channel and ts of the message whose button was pressed."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return channel, ts


async def acknowledge(ack: AsyncAck) -> None:
    """Ack the press within Slack's 3 s; the work follows."""
    await ack()


async def answer_nudge_action(
    deps: Deps, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
) -> None:
    """Apply a snooze, mute or Open in CRM press, then say what happened."""
    pressed = body["actions"][0]
    action, log_id = NUDGE_ACTIONS_BY_ID[pressed["action_id"]], int(pressed["value"])
    outcome = await run_as_slack_user(
        deps,
        client,
        body["user"]["id"],
        lambda session, viewer: press(deps, session, viewer, action, log_id),
    )
    channel, ts = message_location(body)
    if outcome.update is not None and channel and ts:
        message = outcome.update
        await client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
    if outcome.reply is not None:
        await respond(text=outcome.reply, response_type="ephemeral", replace_original=False)


async def open_log_activity(deps: Deps, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Open the "Log activity" modal for whoever may act on the nudge (others are refused)."""
    log_id = int(body["actions"][0]["value"])
    sent = await run_as_slack_user(
        deps,
        client,
        body["user"]["id"],
        lambda session, viewer: nudge_for_actor(session, log_id, viewer),
    )
    channel, ts = message_location(body)
    view = log_activity_view(ModalOrigin(log_id, channel, ts), sent.nudge.fact)
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def check_activity_form(ack: AsyncAck, view: dict[str, Any]) -> None:
    """Ack the submission: close the modal, or keep it open with each field's error."""
    try:
        read_submission(view)
    except InvalidActivity as invalid:
        errors = {str(field): message for field, message in invalid.errors.items()}
        await ack(response_action="errors", errors=errors)
        return
    await ack()


def log_from_modal(
    session: Session, viewer: Viewer, origin: ModalOrigin, logged: LoggedActivity
) -> SlackMessage:
    """Write the activity on the nudge's deal, record the press, and say what the nudge reads."""
    now = utcnow()
    sent = nudge_for_actor(session, origin.log_id, viewer)
    log_activity(session, logged, rep_id=viewer.rep_id, deal_id=sent.nudge.deal_id, at=now)
    record_action(session, origin.log_id, Action.LOG_ACTIVITY, viewer.rep_id, now)
    kind = ACTIVITY_LABELS[logged.type].lower()
    return nudge_done(sent.nudge, logged_status(kind, logged.minutes))


async def save_activity_form(
    deps: Deps, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
) -> None:
    """Log the submitted activity (a form the ack refused is left alone), then rewrite the
    nudge's message."""
    try:
        logged = read_submission(view)
    except InvalidActivity:
        return  # the errors are shown in the modal
    origin = ModalOrigin.load(view["private_metadata"])
    message = await run_as_slack_user(
        deps,
        client,
        body["user"]["id"],
        lambda session, viewer: log_from_modal(session, viewer, origin, logged),
    )
    if origin.channel and origin.ts:
        await client.chat_update(
            channel=origin.channel, ts=origin.ts, text=message.text, blocks=message.blocks
        )


async def tell_in_dm(args: AsyncArgs, text: str) -> None:
    """Tell the user in their DM with the bot (a modal submission has no response_url)."""
    await args.client.chat_postMessage(channel=args.body["user"]["id"], text=text)


def count_press(deps: Deps, args: AsyncArgs, outcome: str) -> None:
    """Count one handled press by action id (or the modal's callback id) and outcome."""
    body = args.body
    name = body["actions"][0]["action_id"] if body.get("actions") else body["view"]["callback_id"]
    deps.metrics.actions.labels(name, outcome).inc()


def register(app: AsyncApp, deps: Deps) -> None:
    """Register the nudge buttons and the "Log activity" modal's submission."""
    answer = guarded(answer_nudge_action, deps, on_outcome=count_press)
    for action, action_id in NUDGE_ACTION_IDS.items():
        if action not in (Action.LOG_ACTIVITY, Action.SUBMIT_FORECAST):  # their own modals
            app.action(action_id)(ack=acknowledge, lazy=[answer])
    opener = guarded(open_log_activity, deps, on_outcome=count_press)
    app.action(NUDGE_ACTION_IDS[Action.LOG_ACTIVITY])(ack=acknowledge, lazy=[opener])
    save = guarded(save_activity_form, deps, present=tell_in_dm, on_outcome=count_press)
    app.view(LOG_ACTIVITY_CALLBACK)(ack=check_activity_form, lazy=[save])
