"""`/forecast submit`, a no_forecast nudge's "Submit forecast" button, and the forecast modal.

The command (or press) is acked at once; the lazy work checks the words and the viewer's access
(a rep's `/forecast submit team` is refused privately, on response_url) and opens the modal with
the request's trigger. The modal's submission is checked in the ack (each field's error comes back
in the modal, no database); then the forecast is written as the rep behind the user of the
verified request (never anyone named in `private_metadata`; a team call's access is checked
again), and the submitter is told privately in the channel the command came from, or by DM
when an ephemeral message cannot go there.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.listeners.commands import acknowledge, count_outcome
from bot.listeners.errors import guarded
from bot.listeners.nudge_actions import count_press, message_location, tell_in_dm
from bot.slack_users import run_as_slack_user
from commands.forecast import is_submit, submit_form
from commands.forecast_modal import (
    FORECAST_CALLBACK,
    FormOrigin,
    confirmation,
    forecast_view,
    read_submission,
)
from commands.kit.args import check_text
from commands.notices import NUDGE_ACTION_IDS
from salesops_core.forecast.submissions import InvalidForecast, submit_forecast
from salesops_core.nudges.facts import Action
from salesops_core.nudges.log import record_action
from salesops_core.nudges.sent import nudge_for_actor
from salesops_core.org.access import Viewer
from salesops_core.timeutil import utcnow

log = logging.getLogger("salesops.bot")


def form_view(
    deps: Deps, session: Session, viewer: Viewer, text: str, channel: str | None
) -> dict[str, Any]:
    """The modal for `/forecast submit` with `text`'s words, confirming in `channel`."""
    check_text("/forecast", text)
    ctx = deps.command_context()
    form = submit_form(session, viewer, text, ctx)
    return forecast_view(form, FormOrigin(channel, form.team_id), ctx.org, ctx.current_time())


async def open_forecast_form(deps: Deps, command: dict[str, Any], client: AsyncWebClient) -> None:
    """Open the forecast modal for the user of `/forecast submit ...`."""
    text, channel = command.get("text") or "", command.get("channel_id")
    view = await run_as_slack_user(
        deps,
        client,
        command["user_id"],
        lambda session, viewer: form_view(deps, session, viewer, text, channel),
    )
    await client.views_open(trigger_id=command["trigger_id"], view=view)


def _nudge_form_view(
    deps: Deps, session: Session, viewer: Viewer, log_id: int, channel: str | None
) -> dict[str, Any]:
    """Record the press of a no_forecast nudge's "Submit forecast" (refused unless the viewer
    may act for its owner) and build the modal for the quarter it is about."""
    sent = nudge_for_actor(session, log_id, viewer)
    record_action(session, log_id, Action.SUBMIT_FORECAST, viewer.rep_id, utcnow())
    quarter = sent.nudge.subject.removeprefix("period:")
    return form_view(deps, session, viewer, quarter, channel)


async def open_forecast_form_from_nudge(
    deps: Deps, body: dict[str, Any], client: AsyncWebClient
) -> None:
    """Open the forecast modal from a nudge's "Submit forecast" button."""
    log_id = int(body["actions"][0]["value"])
    channel, _ = message_location(body)
    view = await run_as_slack_user(
        deps,
        client,
        body["user"]["id"],
        lambda session, viewer: _nudge_form_view(deps, session, viewer, log_id, channel),
    )
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def check_forecast_form(deps: Deps, ack: AsyncAck, view: dict[str, Any]) -> None:
    """Ack the submission: close the modal, or keep it open with each field's error."""
    try:
        read_submission(view, deps.settings.org, utcnow())
    except InvalidForecast as invalid:
        errors = {str(field): message for field, message in invalid.errors.items()}
        await ack(response_action="errors", errors=errors)
        return
    await ack()


async def tell_submitter(
    client: AsyncWebClient, user_id: str, channel: str | None, text: str
) -> None:
    """An ephemeral message to `user_id` in `channel`; their DM when that cannot be."""
    if channel:
        try:
            await client.chat_postEphemeral(channel=channel, user=user_id, text=text)
            return
        except SlackApiError as exc:
            log.info(
                "no ephemeral in %s (%s); confirming by DM", channel, exc.response.get("error")
            )
    await client.chat_postMessage(channel=user_id, text=text)


async def save_forecast_form(
    deps: Deps, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
) -> None:
    """Write the submitted forecast as the submitter (a form the ack refused is left alone),
    then confirm it privately."""
    org, now = deps.settings.org, utcnow()
    try:
        entry = read_submission(view, org, now)
    except InvalidForecast:
        return  # the errors are shown in the modal
    origin = FormOrigin.load(view.get("private_metadata") or "")
    user_id = body["user"]["id"]
    team = await run_as_slack_user(
        deps,
        client,
        user_id,
        lambda session, viewer: submit_forecast(session, viewer, entry, now, origin.team_id),
    )
    await tell_submitter(client, user_id, origin.channel, confirmation(entry, team, org, now))


async def _submitting(body: dict[str, Any]) -> bool:
    return is_submit(body.get("text") or "")


def register(app: AsyncApp, deps: Deps) -> None:
    """Register `/forecast submit` (ahead of the plain `/forecast` listener, so register this
    module first), the nudges' "Submit forecast" button and the forecast modal's submission."""
    opener = guarded(open_forecast_form, deps, on_outcome=count_outcome)
    app.command("/forecast", matchers=[_submitting])(ack=acknowledge, lazy=[opener])
    from_nudge = guarded(open_forecast_form_from_nudge, deps, on_outcome=count_press)
    app.action(NUDGE_ACTION_IDS[Action.SUBMIT_FORECAST])(ack=acknowledge, lazy=[from_nudge])
    save = guarded(save_forecast_form, deps, present=tell_in_dm, on_outcome=count_press)
    app.view(FORECAST_CALLBACK)(ack=partial(check_forecast_form, deps), lazy=[save])
