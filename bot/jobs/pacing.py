"""Client-side pacing of Web API calls, so the dispatcher stays under Slack's rate limits.

Slack publishes a limit per method (https://api.slack.com/apis/rate-limits): a tier of calls
per minute, and for chat.postMessage one message per second per channel. Waiting for a 429
costs at least a whole second (Retry-After is in whole seconds) and holds back the batch, so
the dispatcher spaces its calls evenly at those rates instead; a 429 that still comes (another
process calling the same workspace) is honoured as before. One `Pacer` is shared by the
dispatcher threads of a process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

TIER_CALLS_PER_MINUTE = {2: 20.0, 3: 50.0, 4: 100.0}
METHOD_TIERS = {
    "chat.update": 3,
    "conversations.open": 3,
    "conversations.history": 3,
    "users.info": 4,
    "users.lookupByEmail": 3,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
}
POST_MESSAGE_PER_SECOND = 1.0  # per channel
POST_MESSAGE_BURST = 2.0  # Slack allows "short bursts"; one call short of what it takes


class WouldWait(Exception):
    """Pacing a call would take longer than the caller can wait."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"paced: next slot in {seconds:.2f}s")
        self.seconds = seconds


@dataclass(frozen=True)
class ApiCall:
    """A Web API call to pace: its method, and for chat.postMessage its channel."""

    method: str
    channel: str | None = None


@dataclass
class _Slots:
    """When the next call may go (a virtual schedule at `rate`, with `burst` calls of slack)."""

    rate: float
    burst: float
    next_at: float = 0.0


class Pacer:
    """Reserves evenly spaced time slots per method (and per channel for chat.postMessage)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._slots: dict[ApiCall, _Slots] = {}

    def wait_for(self, calls: Sequence[ApiCall], *, max_wait: float) -> float:
        """Reserve a slot for each call and sleep until all of them have come; the seconds
        slept. Raises `WouldWait` (reserving nothing) when that would exceed `max_wait`."""
        with self._lock:
            now = self._clock()
            slots = [self._slots_for(call) for call in calls if _limited(call)]
            starts = [max(now - s.burst / s.rate, s.next_at) for s in slots]
            wait = max((start - now for start in starts), default=0.0)
            wait = max(0.0, wait)
            if wait > max_wait:
                raise WouldWait(wait)
            for slot, start in zip(slots, starts, strict=True):
                slot.next_at = start + 1 / slot.rate
        if wait:
            self._sleep(wait)
        return wait

    def _slots_for(self, call: ApiCall) -> _Slots:
        key = call if call.method == "chat.postMessage" else ApiCall(call.method)
        if key not in self._slots:
            if call.method == "chat.postMessage":
                self._slots[key] = _Slots(POST_MESSAGE_PER_SECOND, POST_MESSAGE_BURST - 1)
            else:
                self._slots[key] = _Slots(TIER_CALLS_PER_MINUTE[METHOD_TIERS[call.method]] / 60, 0)
        return self._slots[key]


def _limited(call: ApiCall) -> bool:
    return call.method == "chat.postMessage" or call.method in METHOD_TIERS
