"""A reply rendered as readable terminal text (for `salesops ask` and `salesops demo`)."""

from __future__ import annotations

import re
from typing import Any

from commands.kit.reply import Reply

_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]+)`")


def plain(mrkdwn: str) -> str:
    """Slack mrkdwn without its markers: *bold*, _italic_, `code` and ``` fences."""
    text = mrkdwn.replace("```\n", "").replace("\n```", "").replace("```", "")
    for pattern in (_BOLD, _ITALIC, _CODE):
        text = pattern.sub(r"\1", text)
    return text


def _field(text: str) -> str:
    label, _, rest = plain(text).partition("\n")
    return f"  {label}: {rest.replace(chr(10), ' · ')}" if rest else f"  {label}"


def _block_lines(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = block["text"]["text"]
        return ["", title, "=" * len(title)]
    if kind == "divider":
        return ["-" * 40]
    if kind == "context":
        return ["  " + " · ".join(plain(e.get("text", "")) for e in block.get("elements", []))]
    if kind == "section":
        lines = []
        if "text" in block:
            lines += plain(block["text"]["text"]).splitlines()
        lines += [_field(f["text"]) for f in block.get("fields", [])]
        return lines
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}]"]
    if kind == "actions":
        labels = [e.get("text", {}).get("text", "") for e in block.get("elements", [])]
        return ["[buttons: " + " | ".join(labels) + "]"]
    return [f"[{kind} block]"]


def blocks_as_text(blocks: list[dict[str, Any]]) -> str:
    """Block Kit JSON as plain text lines."""
    lines: list[str] = []
    for block in blocks:
        lines += _block_lines(block)
    return "\n".join(lines).strip("\n")


def reply_as_text(reply: Reply) -> str:
    """The reply as a terminal reads it: blocks as text, then the charts it carries."""
    text = blocks_as_text(reply.blocks_json()) or reply.text
    if reply.in_channel:
        text += "\n\n(posted in the channel)"
    for chart in reply.charts:
        text += f"\n[chart: {chart.filename} · {chart.title}]"
    return text
