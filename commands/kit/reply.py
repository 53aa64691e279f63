"""What a command returns: a Block Kit message, its plain-text fallback and chart PNGs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from slack_sdk.models.blocks import Block

from commands.kit.blocks import MAX_BLOCKS, guard
from salesops_core.config import NudgeConfig, OrgConfig, SlaPolicy
from salesops_core.timeutil import utcnow


@dataclass(frozen=True)
class Chart:
    """A chart to upload next to the message.

    The command gathers the chart's data with its numbers; drawing it (the slow part) waits
    until `png` is first read, so the text answer can go out before any chart is drawn.
    """

    filename: str  # "kpi-trend.png"
    title: str  # the file title and alt text
    render: Callable[[], bytes] = field(repr=False, compare=False)

    @cached_property
    def png(self) -> bytes:
        """The PNG bytes, drawn once on first use."""
        return self.render()


@dataclass
class Reply:
    """A command's answer. Blocks are guarded to Slack's 50-block limit on creation."""

    text: str
    blocks: list[Block]
    charts: list[Chart] = field(default_factory=list)
    in_channel: bool = False

    def __post_init__(self) -> None:
        self.blocks = guard(list(self.blocks), limit=MAX_BLOCKS)

    def blocks_json(self) -> list[dict[str, Any]]:
        """The blocks as Slack JSON (slack_sdk validates each block's limits here)."""
        return [block.to_dict() for block in self.blocks]


@dataclass(frozen=True)
class CommandContext:
    """What a command needs besides the session and the viewer."""

    org: OrgConfig
    sla: Sequence[SlaPolicy] = ()
    now: datetime | None = None  # tests pin time
    charts: bool = True  # False: skip rendering charts
    nudges: NudgeConfig = field(default_factory=NudgeConfig)  # App Home, /salesops settings

    def current_time(self) -> datetime:
        """The pinned time, or now (aware UTC)."""
        return self.now or utcnow()
