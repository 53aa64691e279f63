"""Slash commands: ack at once, answer in the background through response_url.

The ack does nothing but ack (no database, no parsing), so it is as fast as Bolt itself.
A lazy listener then resolves the Slack user to a rep, runs the command once in a worker
thread (one transaction there) and answers through response_url; only then are the reply's
charts drawn (in the chart processes, `bot.chart_pool`, so drawing never holds this process's
GIL) and uploaded, so charts never delay the text (drawing a chart takes longer than computing
the numbers).

Charts and ephemeral answers: a file shared nowhere is visible to its uploader only, so an
ephemeral message cannot show it (an image block with `slack_file` fails for the viewer), and
an ephemeral message cannot carry a file. So a private answer's charts go to the user's DM with
the bot (`conversations.open`, scope im:write) as a file with the command as its comment;
a shared answer's charts go to the channel it was asked in, or to the DM when the bot is not
a member there.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.listeners.errors import guarded
from bot.slack_users import run_as_slack_user
from commands.base import COMMANDS, Chart, Reply, run_command
from salesops_core.org.access import Viewer

log = logging.getLogger("salesops.bot")

# completeUploadExternal errors that mean "this channel will not take the file": use the DM.
CHANNEL_REFUSED = {"not_in_channel", "channel_not_found", "is_archived", "access_denied"}


async def acknowledge(ack: AsyncAck) -> None:
    """Ack within Slack's 3 s; the answer follows on response_url."""
    await ack()


async def _dm_channel(client: AsyncWebClient, user_id: str) -> str:
    opened = await client.conversations_open(users=user_id)
    return str(opened["channel"]["id"])


async def upload_charts(
    client: AsyncWebClient,
    charts: list[tuple[Chart, bytes]],
    *,
    user_id: str,
    channel_id: str | None,
    comment: str,
) -> str:
    """Upload the charts (each with its PNG) with the files v2 flow into the channel (if
    given) or the user's DM.

    Returns the channel the files were shared in.
    """
    uploads = [
        {"content": png, "filename": c.filename, "title": c.title, "alt_txt": c.title}
        for c, png in charts
    ]
    if channel_id:
        try:
            await client.files_upload_v2(
                file_uploads=uploads,
                channel=channel_id,
                initial_comment=comment,
                request_file_info=False,
            )
            return channel_id
        except SlackApiError as exc:
            if exc.response.get("error") not in CHANNEL_REFUSED:
                raise
            log.info("channel %s refused the chart (%s); sending it by DM", channel_id, exc)
    dm = await _dm_channel(client, user_id)
    await client.files_upload_v2(
        file_uploads=uploads, channel=dm, initial_comment=comment, request_file_info=False
    )
    return dm


async def answer_command(
    deps: Deps, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
) -> None:
    """Run the command as the user's rep and answer on response_url; then upload its charts."""
    started = time.perf_counter()
    name, text, user_id = (
        command["command"],
        (command.get("text") or "").strip(),
        command["user_id"],
    )
    context = deps.command_context()

    def run(session: Session, viewer: Viewer) -> Reply:
        return run_command(session, viewer, name, text, context)

    reply = await run_as_slack_user(deps, client, user_id, run)
    await respond(
        text=reply.text,
        blocks=reply.blocks_json(),
        response_type="in_channel" if reply.in_channel else "ephemeral",
        replace_original=False,
    )
    deps.metrics.command_seconds.labels(name).observe(time.perf_counter() - started)
    if reply.charts:
        # Drawn only now, after the text answer is out; the numbers are not computed again.
        pngs = await deps.draw_charts(reply.charts)
        await upload_charts(
            client,
            list(zip(reply.charts, pngs, strict=True)),
            user_id=user_id,
            channel_id=command.get("channel_id") if reply.in_channel else None,
            comment=f"`{f'{name} {text}'.strip()}`",
        )


def count_outcome(deps: Deps, args: AsyncArgs, outcome: str) -> None:
    """Count one answered command by name and outcome (ok, user_error, ...)."""
    deps.metrics.commands.labels(args.body["command"], outcome).inc()


def register(app: AsyncApp, deps: Deps) -> None:
    """Listen to every slash command `commands.base.COMMANDS` knows."""
    answer = guarded(answer_command, deps, on_outcome=count_outcome)
    for name in COMMANDS:
        app.command(name)(ack=acknowledge, lazy=[answer])
