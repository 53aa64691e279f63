"""Small pure pieces of the bot: the repeat-event memory and the error mapping."""

from __future__ import annotations

import logging
import re

import pytest

from bot.listeners.errors import outcome_of, user_message
from bot.listeners.events import SeenEvents
from salesops_core.errors import NotAllowed
from salesops_core.org.identity import UnknownSlackUser


def test_an_event_id_is_new_once_then_a_repeat_within_the_ttl() -> None:
    seen = SeenEvents(ttl_seconds=60)
    assert seen.first_time("Ev1", now=0.0) is True
    assert seen.first_time("Ev1", now=59.0) is False
    assert seen.first_time("Ev2", now=59.0) is True


def test_an_event_id_is_forgotten_after_the_ttl() -> None:
    seen = SeenEvents(ttl_seconds=60)
    seen.first_time("Ev1", now=0.0)
    assert seen.first_time("Ev1", now=61.0) is True


def test_the_memory_keeps_at_most_max_size_ids_dropping_the_oldest() -> None:
    seen = SeenEvents(ttl_seconds=3600, max_size=2)
    for event_id in ("Ev1", "Ev2", "Ev3"):
        seen.first_time(event_id, now=1.0)
    assert seen.first_time("Ev3", now=2.0) is False
    assert seen.first_time("Ev1", now=2.0) is True


def test_a_domain_error_is_shown_as_it_is() -> None:
    assert user_message(NotAllowed("Sorry, not your team."), "test") == "Sorry, not your team."


def test_an_unexpected_error_gets_a_ref_that_is_also_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="salesops.bot"):
        text = user_message(KeyError("boom"), "answer_command")
    ref = re.fullmatch(r"Something went wrong \(ref ([0-9a-f]{6})\)\. .*", text)
    assert ref, text
    (record,) = caplog.records
    assert ref.group(1) in record.getMessage() and record.exc_info is not None


def test_outcomes_tell_unknown_users_and_user_errors_from_bugs() -> None:
    assert outcome_of(None) == "ok"
    assert outcome_of(UnknownSlackUser("a@b.c")) == "unknown_user"
    assert outcome_of(NotAllowed("no")) == "user_error"
    assert outcome_of(RuntimeError()) == "error"
