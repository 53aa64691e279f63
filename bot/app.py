"""The composition root of the Slack side: one AsyncApp with every listener registered.

Nothing is built at import time; `build_app` is called once per process (HTTP server,
Socket Mode, tests, benchmarks) and the app is never changed afterwards.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.listeners import register_all
from bot.settings import Settings
from salesops_core.errors import ConfigError

# Slack asks a rate-limited client to wait (Retry-After); two waits cover a burst, more would
# keep a user's answer waiting past the point of usefulness.
RATE_LIMIT_RETRIES = 2
SERVER_ERROR_RETRIES = 2


class _SameTokenNotice(logging.Filter):
    """Drop Bolt's start-up warning that our client's token wins over SLACK_BOT_TOKEN: Bolt
    reads that variable itself, and our client was built from the very same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def make_web_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL, and retries for 429 (Retry-After), 5xx and resets."""
    if not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-...).")
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            AsyncServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
        ],
        logger=logging.getLogger("salesops.slack"),
    )


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("salesops.bolt")
    if not any(isinstance(f, _SameTokenNotice) for f in logger.filters):
        logger.addFilter(_SameTokenNotice())
    return logger


def build_app(deps: Deps) -> AsyncApp:
    """The Bolt app with every listener registered on `deps`."""
    settings = deps.settings
    app = AsyncApp(
        name="salesops",
        client=make_web_client(settings),
        signing_secret=settings.slack_signing_secret or "",
        logger=_bolt_logger(),
    )
    register_all(app, deps)
    return app
