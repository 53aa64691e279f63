"""Options several commands share: `--now` (every command that depends on the time takes it)."""

from __future__ import annotations

from datetime import datetime

import typer

from salesops_core.errors import SalesopsError

NowOption = typer.Option(
    None,
    "--now",
    help="Compute as of this ISO time (naive = UTC); default: the clock.",
)


def parse_now(text: str | None) -> datetime:
    """The `--now` value as an aware UTC time (a time without a zone is UTC); the clock if None."""
    from salesops_core.timeutil import as_utc, utcnow

    if text is None:
        return utcnow()
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        raise SalesopsError(f"--now: {text!r} is not an ISO time like 2026-06-30T12:00") from None
