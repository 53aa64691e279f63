"""The manager's own nudges held back by the daily budget, folded into their digest: the
"Held back from your nudges" section and the `held_nudges` of the JSON (no database)."""

from __future__ import annotations

import json
from dataclasses import replace

from commands.digest import digest_message
from commands.notices import render
from salesops_core.config import NudgeRule
from salesops_core.digest.export import digest_json
from salesops_core.digest.facts import DigestNotice, SlaFacts
from salesops_core.nudges.facts import Action, Nudge
from salesops_core.outbox import notice_payload
from tests.unit.test_digest_blocks import (
    ACME,
    assert_within_block_kit_limits,
    digest,
    kpis,
    rep,
    section_starting,
    text_of,
)

TITLE = "*Held back from your nudges*"


def held(n: int) -> list[Nudge]:
    """`n` stale-deal nudges for Freya, the digest's recipient, biggest deal first."""
    return [
        Nudge(
            rule=NudgeRule.STALE_DEAL,
            rep_id=5,
            rep="Freya Moreau",
            subject=f"deal:OPP-{i}",
            fact=f"Deal {i} ($1,000) has had no activity for {20 + i} days",
            why="A quiet deal goes cold.",
            actions=(Action.LOG_ACTIVITY, Action.SNOOZE_DAY),
        )
        for i in range(n)
    ]


def test_held_nudges_are_listed_five_at_most_then_how_many_more() -> None:
    message = digest_message(digest(held_nudges=held(7)))
    assert section_starting(message, TITLE)["text"]["text"] == "\n".join(
        [TITLE, *(f"• Deal {i} ($1,000) has had no activity for {20 + i} days" for i in range(5)),
         "…and 2 more"]
    )  # fmt: skip
    assert message.blocks[-1]["type"] == "context"  # the footer stays last


def test_a_few_held_nudges_are_all_listed_without_a_remainder() -> None:
    text = section_starting(digest_message(digest(held_nudges=held(2))), TITLE)["text"]["text"]
    assert text.count("• ") == 2 and "more" not in text


def test_no_held_nudges_no_section() -> None:
    assert "Held back" not in text_of(digest_message(digest()))


def test_an_empty_week_still_lists_the_held_nudges() -> None:
    none = SlaFacts(leads=0, met=0, breached=0, unanswered=0)
    quiet = digest(kpis=kpis(), sla=none, stale_deals=[], movers=[], held_nudges=held(1))
    assert quiet.is_empty
    assert "Deal 0 ($1,000)" in section_starting(digest_message(quiet), TITLE)["text"]["text"]


def test_the_biggest_digest_with_held_nudges_stays_within_block_kit_limits() -> None:
    reps = [rep(n, 100_000.0 - n * 1000, 0.3, True, 5000.0) for n in range(30)]
    stale = [replace(ACME, deal_id=100 + n, external_id=f"OPP-{n}") for n in range(30)]
    long_fact = [replace(n, fact="x" * 1000) for n in held(40)]
    message = digest_message(
        digest(leaderboard=reps, behind_pace=reps, stale_deals=stale, held_nudges=long_fact),
        chart_note="The chart could not be drawn this time.",
    )
    assert_within_block_kit_limits(message)
    assert section_starting(message, TITLE)


def test_a_stored_digest_notice_keeps_its_held_nudges() -> None:
    notice = DigestNotice(digest(held_nudges=held(3)))
    payload = json.loads(json.dumps(notice_payload(notice)))
    assert render(notice.kind, payload) == digest_message(notice.digest)


def test_json_lists_the_held_nudges_by_rule_subject_and_text() -> None:
    assert digest_json(digest(held_nudges=held(1)))["held_nudges"] == [
        {
            "rule": "stale_deal",
            "subject": "deal:OPP-0",
            "text": "Deal 0 ($1,000) has had no activity for 20 days",
        }
    ]
    assert digest_json(digest())["held_nudges"] == []
