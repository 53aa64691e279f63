"""Buttons that only open a link, such as the digest's "Open in CRM".

Slack opens the URL in the browser and still posts a block action for the press; a press that
is not acked shows the reader a warning icon next to the button. So these are acked, and
nothing else happens: a press changes nothing, so there is nobody to refuse (a button that
changes something asks `org.access.require_act_for` first).
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from commands.digest import OPEN_IN_CRM

LINK_BUTTONS = (OPEN_IN_CRM,)


async def acknowledge(ack: AsyncAck) -> None:
    """Ack the press: the link opened in the reader's browser, there is nothing to do."""
    await ack()


def register(app: AsyncApp, deps: Deps) -> None:
    """Ack every link button's presses."""
    for action_id in LINK_BUTTONS:
        app.action(action_id)(acknowledge)
