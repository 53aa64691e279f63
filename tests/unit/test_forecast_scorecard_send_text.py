"""What `salesops forecast scorecard --send-now` says: the outbox holds the scorecards, which
the dispatcher may not have delivered yet, so "sent" would claim more than it knows."""

from __future__ import annotations

from bot.cli.forecast import _sent_text


def test_a_second_send_says_the_scorecards_are_in_the_outbox_already() -> None:
    assert _sent_text("2026-Q3", 0, 25) == (
        "Nothing new to send: the 25 scorecards of 2026-Q3 were put in the outbox already."
    )


def test_a_partial_send_counts_the_new_and_the_earlier_ones() -> None:
    assert _sent_text("2026-Q3", 2, 23) == (
        "2026-Q3 scorecards: 2 put in the outbox; 23 were in it already."
    )
