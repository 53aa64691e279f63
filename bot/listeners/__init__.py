"""Every Bolt listener of the bot, registered module by module on one app."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.listeners import commands, errors, events, lead_actions
from bot.runtime import Runtime


def register_all(app: AsyncApp, deps: Deps, runtime: Runtime) -> None:
    """Register the error handler, slash commands, App Home events and the lead DM buttons."""
    errors.register(app, deps, runtime)
    commands.register(app, deps, runtime)
    events.register(app, deps, runtime)
    lead_actions.register(app, deps)
