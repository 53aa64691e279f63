"""Every Bolt listener of the bot, registered module by module on one app.

A listener is a top-level async function whose first parameter is `deps` (the one container,
`bot.deps.Deps`) and whose other parameters are Bolt argument names (`command`, `client`,
`respond`, ...), so a test can call it with fakes. Each module's `register(app, deps)` only
wires its listeners: `guarded(listener, deps)` for lazy work and event handlers (failures still
reach the user), `functools.partial(listener, deps)` for middleware and the error handler
(Bolt reads the parameters a partial leaves open, so `deps` must be bound positionally).
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.listeners import (
    commands,
    errors,
    events,
    forecast_actions,
    lead_actions,
    link_buttons,
    nudge_actions,
)


def register_all(app: AsyncApp, deps: Deps) -> None:
    """Register the error handler, `/forecast submit` with its modal (ahead of the slash
    commands: Bolt runs the first listener that matches), slash commands, App Home events, the
    lead DM buttons, the link buttons and the nudge buttons (with their modal)."""
    errors.register(app, deps)
    forecast_actions.register(app, deps)
    commands.register(app, deps)
    events.register(app, deps)
    lead_actions.register(app, deps)
    link_buttons.register(app, deps)
    nudge_actions.register(app, deps)
