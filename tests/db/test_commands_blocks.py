"""Block Kit guards: 50 blocks, 3000 characters a section, 10 fields, long tables split."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from commands.base import run_command
from commands.kit.blocks import MAX_BLOCKS, code_sections, field_sections, guard, header, section
from commands.kit.reply import Reply
from salesops_core.db.models import Deal, Outcome, Quota, Rep, Role, Team
from salesops_core.org.access import viewer_for_rep
from tests.support.command_org import Q4, context


def test_section_text_is_clipped_to_3000_characters() -> None:
    block = section("x" * 5000).to_dict()
    assert len(block["text"]["text"]) == 3000
    assert block["text"]["text"].endswith("…")


def test_header_is_clipped_to_150_characters() -> None:
    assert len(header("h" * 400).to_dict()["text"]["text"]) == 150


def test_more_than_ten_fields_are_split_over_sections() -> None:
    sections = field_sections([f"*f{i}*\nv" for i in range(23)])
    assert [len(s.fields) for s in sections] == [10, 10, 3]


def test_long_table_is_split_into_sections_under_the_limit_without_breaking_lines() -> None:
    lines = [f"{i:>3} " + "r" * 60 for i in range(120)]
    sections = code_sections(lines, max_sections=10)
    texts = [s.to_dict()["text"]["text"] for s in sections]
    assert len(texts) > 1
    assert all(len(t) <= 3000 for t in texts)
    assert sum(t.count("\n") - 1 for t in texts) == 120  # every line kept, none broken


def test_table_beyond_max_sections_is_truncated_with_a_note() -> None:
    sections = code_sections([f"line {i} " + "x" * 90 for i in range(200)], max_sections=2)
    assert len(sections) == 2
    assert "more rows not shown" in sections[-1].to_dict()["text"]["text"]


def test_reply_keeps_at_most_50_blocks_and_says_what_was_left_out() -> None:
    reply = Reply("t", [section(str(i)) for i in range(80)])
    assert len(reply.blocks) == MAX_BLOCKS
    assert "31 more blocks were left out" in reply.blocks_json()[-1]["elements"][0]["text"]


def test_guard_leaves_a_short_message_alone() -> None:
    blocks = [section("a"), section("b")]
    assert guard(blocks) is blocks


def test_sixty_rep_leaderboard_stays_within_slack_limits(session: Session) -> None:
    team = Team(name="Big")
    admin = Rep(name="Ada Admin", email="ada@example.com", role=Role.ADMIN)
    reps = [Rep(name=f"Rep Number {i:02d} Longname", team=team) for i in range(60)]
    session.add_all([team, admin, *reps])
    session.flush()
    session.add_all(
        [Quota(rep_id=r.id, period_start=Q4[0], period_end=Q4[1], amount=100_000) for r in reps]
    )
    session.add_all(
        [
            Deal(external_id=f"D{i}", owner_id=r.id, amount=1_000 * (i + 1), stage="Won",
                 outcome=Outcome.WON, created_at=datetime(2026, 9, 1, tzinfo=UTC),
                 closed_at=datetime(2026, 10, 5, tzinfo=UTC))
            for i, r in enumerate(reps)
        ]
    )  # fmt: skip
    session.commit()
    reply = run_command(session, viewer_for_rep(admin), "/team", "Big", context())
    blocks = reply.blocks_json()  # slack_sdk validates every block's own limits here
    assert len(blocks) <= 50
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    assert all(len(t) <= 3000 for t in texts)
    assert all(len(b.get("fields", [])) <= 10 for b in blocks)
    table = "".join(t for t in texts if t.startswith("```"))
    assert "Rep Number 59" in table and "Rep Number 00" in table  # all 60 rows shown, split


def test_commands_import_only_slack_block_models_never_network_code() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    imports = re.compile(r"^\s*(?:from|import)\s+(slack_\w+(?:\.\w+)*)", re.MULTILINE)
    used = {
        name
        for folder in ("commands", "salesops_core")
        for path in (root / folder).rglob("*.py")
        for name in imports.findall(path.read_text(encoding="utf-8"))
    }
    assert used <= {"slack_sdk.models.blocks"}
