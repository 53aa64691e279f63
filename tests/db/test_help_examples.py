"""Every example the help shows works as typed on the demo org (its people and teams)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from commands.base import run_command
from commands.kit.help import USAGES
from tests.support.command_org import context
from tests.support.demo_people import load_demo_people

EXAMPLES = [example for usage in USAGES.values() for example in usage.examples]


@pytest.mark.parametrize("example", EXAMPLES)
def test_each_help_example_runs_on_the_demo_org(session: Session, example: str) -> None:
    people = load_demo_people(session)
    command, _, text = example.partition(" ")
    reply = run_command(session, people.west_manager, command, text, context())
    assert reply.blocks, example
