"""Block Kit builders that stay inside Slack's limits.

Limits (https://api.slack.com/reference/block-kit): 50 blocks a message (100 in a view),
3000 characters in a section text, 10 fields a section (2000 characters each), 150 characters
in a header. Every builder here clips or splits instead of letting Slack reject the message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def header(text: str) -> HeaderBlock:
    """A header (plain text, at most 150 characters)."""
    return HeaderBlock(text=PlainTextObject(text=clip(text, MAX_HEADER_TEXT), emoji=True))


def section(text: str) -> SectionBlock:
    """A mrkdwn section, clipped to 3000 characters."""
    return SectionBlock(text=MarkdownTextObject(text=clip(text, MAX_SECTION_TEXT)))


def context(*texts: str) -> ContextBlock:
    """A small grey context line (at most 10 elements)."""
    elements = [MarkdownTextObject(text=clip(t, MAX_SECTION_TEXT)) for t in texts if t]
    return ContextBlock(elements=elements[:MAX_CONTEXT_ELEMENTS] or [MarkdownTextObject(text=" ")])


def divider() -> DividerBlock:
    """A horizontal rule."""
    return DividerBlock()


def field_sections(fields: Sequence[str]) -> list[SectionBlock]:
    """Label/value fields, 10 to a section (Slack's limit), each clipped to 2000 characters."""
    clipped = [clip(f, MAX_FIELD_TEXT) for f in fields]
    return [
        SectionBlock(fields=[MarkdownTextObject(text=f) for f in clipped[i : i + MAX_FIELDS]])
        for i in range(0, len(clipped), MAX_FIELDS)
    ]


def code_sections(lines: Iterable[str], *, max_sections: int = 4) -> list[SectionBlock]:
    """Monospace lines (a table) packed into sections of at most 3000 characters.

    Lines never break across sections. When more than `max_sections` would be needed, the
    rest is dropped and the last section says how many lines were left out.
    """
    budget = MAX_SECTION_TEXT - len("```\n\n```") - 60  # room for the "left out" note
    chunks: list[list[str]] = [[]]
    size = 0
    for line in (clip(x, 200) for x in lines):
        if chunks[-1] and size + len(line) + 1 > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line) + 1
    kept = chunks[:max_sections]
    left_out = sum(len(c) for c in chunks[max_sections:])
    sections = []
    for i, chunk in enumerate(kept):
        text = "```\n" + "\n".join(chunk) + "\n```"
        if left_out and i == len(kept) - 1:
            text += f"\n_…and {left_out} more rows not shown._"
        sections.append(section(text))
    return sections if kept[0] else []


def guard(blocks: list[Block], *, limit: int = MAX_BLOCKS) -> list[Block]:
    """At most `limit` blocks: when there are more, keep the first ones and say so at the end."""
    if len(blocks) <= limit:
        return blocks
    dropped = len(blocks) - (limit - 1)
    return [
        *blocks[: limit - 1],
        context(f"_{dropped} more blocks were left out of this message._"),
    ]
