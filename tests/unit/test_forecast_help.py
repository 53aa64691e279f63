"""`/forecast help` names everything /forecast shows and says its jargon in plain words."""

from __future__ import annotations

from commands.kit.help import USAGES


def test_forecast_help_names_the_bot_forecast_and_its_range() -> None:
    summary = USAGES["/forecast"].summary
    assert "the bot's own forecast with the range won should land in 8 times in 10" in summary


def test_forecast_help_says_what_mape_is() -> None:
    summary = USAGES["/forecast"].summary
    assert "MAPE (the average of its reps' own misses)" in summary
