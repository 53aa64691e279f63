"""Every Bolt listener of the bot, registered module by module on one app."""

from __future__ import annotations

import importlib.util

from slack_bolt.async_app import AsyncApp

from bot.context import Deps
from bot.listeners import commands, errors, events
from bot.runtime import Runtime


def register_all(app: AsyncApp, deps: Deps, runtime: Runtime) -> None:
    """Register the error handler, slash commands, events and (when present) lead buttons."""
    errors.register(app, deps, runtime)
    commands.register(app, deps, runtime)
    events.register(app, deps, runtime)
    if importlib.util.find_spec("bot.listeners.lead_actions") is not None:
        from bot.listeners import lead_actions

        lead_actions.register(app, deps)
