"""/forecast shows the bot's own forecast (the model's P50 and P10-P90) while a period is still
to come or running, on the hand-made history of tests/support/forecast_history.py: at the start
of 2026-Q1, 10 open deals of 1,000 with a learned chance of 0.3 -> P50 3,000, P10 1,000,
P90 5,000; no bot forecast once the period has ended."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from commands.base import run_command
from commands.kit.reply import CommandContext
from commands.kit.text import reply_as_text
from salesops_core.config import SlaPolicy
from salesops_core.db.models import Rep
from salesops_core.org.access import viewer_for_rep
from tests.support.forecast_history import ORG, Q1, build


@pytest.fixture
def reps(session: Session) -> dict[str, Rep]:
    reps = build(session)
    session.commit()
    return reps


def ask(session: Session, rep: Rep, text: str, now_offset: timedelta) -> str:
    ctx = CommandContext(org=ORG, sla=(SlaPolicy(),), now=Q1.start + now_offset, charts=False)
    return reply_as_text(run_command(session, viewer_for_rep(rep), "/forecast", text, ctx))


def test_the_bot_forecast_of_a_running_quarter_is_the_models_p50_and_range(
    session: Session, reps: dict[str, Rep]
) -> None:
    text = ask(session, reps["ann"], "2026-Q1", timedelta(0))
    assert "Bot forecast: $3,000 · P10-P90: $1,000 to $5,000" in text


def test_a_closed_quarter_has_no_bot_forecast(session: Session, reps: dict[str, Rep]) -> None:
    text = ask(session, reps["ann"], "2026-Q1", timedelta(days=120))
    assert "Bot forecast" not in text
