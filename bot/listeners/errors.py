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
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.deps import Deps
from bot.metrics import Metrics
from bot.runtime import after_ack
from salesops_core.errors import SalesopsError
from salesops_core.org.identity import UnknownSlackUser

log = logging.getLogger("salesops.bot")

# A listener is a top-level async function: `deps` first, then Bolt argument names.
Listener = Callable[..., Awaitable[None]]
Presenter = Callable[[AsyncArgs, str], Awaitable[None]]
OutcomeHook = Callable[[Deps, AsyncArgs, str], None]


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
    listener: Listener,
    deps: Deps,
    *,
    present: Presenter = reply_privately,
    on_outcome: OutcomeHook | None = None,
) -> Callable[[AsyncArgs], Awaitable[None]]:
    """Make `listener` a Bolt listener that tells the user about any failure, through `present`.

    The wrapper takes Bolt's `args` and calls `listener(deps, ...)` with the Bolt arguments its
    other parameters name. It starts once the ack is sent (`after_ack`) and counts as
    `deps.background` while it runs, so a shutdown waits for it.
    """
    wanted = list(inspect.signature(listener).parameters)[1:]
    where = listener.__name__

    async def run_guarded(args: AsyncArgs) -> None:
        with deps.background.tracking():
            await after_ack()
            failure: Exception | None = None
            try:
                await listener(deps, **{name: getattr(args, name) for name in wanted})
            except Exception as exc:
                failure = exc
            if on_outcome is not None:
                on_outcome(deps, args, outcome_of(failure))
            if failure is not None:
                await present(args, user_message(failure, where, deps.metrics))

    run_guarded.__name__ = run_guarded.__qualname__ = f"guarded_{where}"
    return run_guarded


async def tell_user_about_error(
    deps: Deps, error: Exception, body: dict[str, Any], respond: AsyncRespond
) -> None:
    """The `@app.error` handler: a private, friendly reply where the request has a response_url."""
    kind = body.get("type") or ("slash_command" if "command" in body else "request")
    text = user_message(error, f"listener for {kind}", deps.metrics)
    if respond.response_url:
        await respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: AsyncApp, deps: Deps) -> None:
    """The one error handler for everything that is not lazy work (acks, events, actions)."""
    app.error(partial(tell_user_about_error, deps))
