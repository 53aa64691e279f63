"""One mapping from an exception to what the user is told, used by every entry point.

A `SalesopsError` carries a message safe to show as it is (unknown period, not allowed, ...).
Anything else is a bug: the user gets "Something went wrong (ref abc123)" and the log gets the
traceback under the same ref, so a support question can be matched to its cause.

Bolt never hands an exception raised in a lazy listener to `@app.error`, so lazy work is
wrapped once with `guarded(...)`; the `@app.error` handler covers everything else.
"""

from __future__ import annotations

import inspect
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.deps import Deps
from bot.metrics import Metrics
from bot.runtime import BackgroundWork, Runtime, after_ack
from salesops_core.errors import SalesopsError
from salesops_core.org.identity import UnknownSlackUser

log = logging.getLogger("salesops.bot")

Presenter = Callable[[AsyncArgs, str], Awaitable[None]]
OutcomeHook = Callable[[AsyncArgs, str], None]


def outcome_of(exc: BaseException | None) -> str:
    """The metrics label for how a piece of work ended."""
    if exc is None:
        return "ok"
    if isinstance(exc, UnknownSlackUser):
        return "unknown_user"
    if isinstance(exc, SalesopsError):
        return "user_error"
    return "error"


def user_message(exc: BaseException, where: str, metrics: Metrics | None = None) -> str:
    """What to tell the user about `exc`; unexpected errors are logged with a short ref."""
    if isinstance(exc, SalesopsError):
        log.info("%s: told the user: %s", where, exc)
        return str(exc)
    ref = secrets.token_hex(3)
    log.error("unexpected error in %s (ref %s)", where, ref, exc_info=exc)
    if metrics is not None:
        metrics.errors.labels(where).inc()
    return (
        f"Something went wrong (ref {ref}). Please try again; if it keeps happening, "
        "give the ref to your sales-ops admin."
    )


async def reply_privately(args: AsyncArgs, text: str) -> None:
    """Answer on the request's response_url, visible only to the user."""
    if args.context.response_url:
        await args.respond(text=text, response_type="ephemeral", replace_original=False)


def guarded(
    func: Callable[..., Awaitable[None]],
    *,
    runtime: Runtime | None = None,
    present: Presenter = reply_privately,
    on_outcome: OutcomeHook | None = None,
) -> Callable[[AsyncArgs], Awaitable[None]]:
    """Wrap a (lazy) listener so any failure still tells the user, through `present`.

    The wrapper takes Bolt's `args` and passes `func` the arguments it names, like Bolt does;
    it starts once the ack is sent (`after_ack`), and while it runs it counts as the runtime's
    background work (a shutdown waits for it).
    Without a runtime, no metrics are kept and a shutdown does not wait.
    """
    background = runtime.background if runtime else BackgroundWork()
    metrics = runtime.metrics if runtime else None
    wanted = list(inspect.signature(func).parameters)
    where = func.__name__

    async def run_guarded(args: AsyncArgs) -> None:
        with background.tracking():
            await after_ack()
            failure: Exception | None = None
            try:
                await func(**{name: getattr(args, name) for name in wanted})
            except Exception as exc:
                failure = exc
            if on_outcome is not None:
                on_outcome(args, outcome_of(failure))
            if failure is not None:
                await present(args, user_message(failure, where, metrics))

    run_guarded.__name__ = run_guarded.__qualname__ = f"guarded_{where}"
    return run_guarded


def register(app: AsyncApp, deps: Deps, runtime: Runtime) -> None:
    """The one error handler for everything that is not lazy work (acks, events, actions)."""

    async def on_error(error: Exception, body: dict[str, Any], context: Any) -> None:
        kind = body.get("type") or ("slash_command" if "command" in body else "request")
        text = user_message(error, f"listener for {kind}", runtime.metrics)
        if context.response_url:
            await context.respond(text=text, response_type="ephemeral", replace_original=False)

    app.error(on_error)
