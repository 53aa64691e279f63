"""A message ready for Slack: what the dispatcher posts for a notice and a digest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block


@dataclass(frozen=True)
class SlackMessage:
    """A message ready for chat.postMessage / chat.update: fallback text and blocks (JSON)."""

    text: str
    blocks: list[dict[str, Any]]

    @classmethod
    def of(cls, text: str, blocks: Sequence[Block]) -> SlackMessage:
        """The message of Block Kit objects (slack_sdk validates each block's limits here)."""
        return cls(text, [block.to_dict() for block in blocks])
