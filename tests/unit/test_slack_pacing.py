"""The dispatcher's pacing: calls spaced to Slack's per-method limits."""

import pytest

from bot.jobs.pacing import ApiCall, Pacer, WouldWait


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def pacer() -> tuple[Pacer, FakeTime]:
    fake = FakeTime()
    return Pacer(clock=fake.clock, sleep=fake.sleep), fake


def test_tier_4_calls_are_spaced_at_100_a_minute():
    pace, fake = pacer()
    upload = ApiCall("files.getUploadURLExternal")
    waits = [pace.wait_for([upload], max_wait=10) for _ in range(4)]
    assert waits == pytest.approx([0, 0.6, 0.6, 0.6])
    assert fake.now == pytest.approx(101.8)


def test_post_message_allows_a_short_burst_per_channel_then_one_a_second():
    pace, _ = pacer()
    waits = [pace.wait_for([ApiCall("chat.postMessage", "D1")], max_wait=10) for _ in range(4)]
    assert waits == pytest.approx([0, 0, 1, 1])
    assert pace.wait_for([ApiCall("chat.postMessage", "D2")], max_wait=10) == 0  # own channel


def test_a_wait_longer_than_allowed_reserves_nothing():
    pace, fake = pacer()
    lookup = ApiCall("users.lookupByEmail")  # Tier 3: 50 a minute
    pace.wait_for([lookup], max_wait=0)
    with pytest.raises(WouldWait) as refused:
        pace.wait_for([lookup], max_wait=1.0)
    assert refused.value.seconds == pytest.approx(1.2)
    fake.now += 1.2
    assert pace.wait_for([lookup], max_wait=0) == 0  # the refused call took no slot


def test_unlimited_methods_never_wait():
    pace, _ = pacer()
    assert all(pace.wait_for([ApiCall("auth.test")], max_wait=0) == 0 for _ in range(10))
