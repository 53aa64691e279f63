"""The bot's two-pass answer relies on knowing which commands draw charts."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.listeners.commands import CHART_COMMANDS
from commands.base import COMMANDS, CommandContext, run_command
from salesops_core.access import viewer_for_rep
from salesops_core.config import OrgConfig
from salesops_core.models import Rep
from tests.test_bot_commands_e2e import build_org


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - CHART_COMMANDS))
def test_commands_outside_chart_commands_never_return_charts(
    session: Session, command: str
) -> None:
    build_org(session)
    context = CommandContext(org=OrgConfig(), charts=True)
    for email in ("maria@acme.test", "ada@acme.test"):
        viewer = viewer_for_rep(session.scalar(select(Rep).where(Rep.email == email)))
        assert run_command(session, viewer, command, "", context).charts == []


def test_chart_commands_are_real_commands() -> None:
    assert set(COMMANDS) >= CHART_COMMANDS
