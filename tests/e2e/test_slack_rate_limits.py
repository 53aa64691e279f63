"""The local Slack server's rate limits: Slack's documented tiers, when turned on."""

import time

import pytest
from slack_sdk.errors import SlackApiError


def test_limits_are_off_unless_turned_on(fake_slack):
    slack = fake_slack.web_client()
    for _ in range(10):
        slack.chat_postMessage(channel="C1", text="hi")
    assert fake_slack.rate_limited == []


def test_post_message_allows_a_short_burst_per_channel_then_answers_429(fake_slack):
    fake_slack.enforce_rate_limits()
    slack = fake_slack.web_client()
    for _ in range(3):
        slack.chat_postMessage(channel="U1", text="hi")
    with pytest.raises(SlackApiError) as refused:
        slack.chat_postMessage(channel="D1", text="hi")  # the same DM, by its channel id
    assert refused.value.response.status_code == 429
    assert refused.value.response.headers["Retry-After"] == "1"
    slack.chat_postMessage(channel="C2", text="another channel has its own budget")
    assert [call.params["channel"] for call in fake_slack.rate_limited] == ["D1"]


def test_tier_4_upload_calls_are_limited_per_method_and_the_floor_counts_what_got_through(
    fake_slack,
):
    fake_slack.enforce_rate_limits()
    slack = fake_slack.web_client()
    for _ in range(3):
        slack.files_getUploadURLExternal(filename="a.png", length=1)
    with pytest.raises(SlackApiError) as refused:
        slack.files_getUploadURLExternal(filename="a.png", length=1)
    assert refused.value.response.status_code == 429
    slack.conversations_open(users="U1")  # Tier 3, a bucket of its own
    assert fake_slack.floor_seconds() == 0.0  # three calls fit in the burst
    time.sleep(0.65)  # a token comes back every 0.6 s at 100 a minute
    slack.files_getUploadURLExternal(filename="a.png", length=1)
    assert fake_slack.floor_seconds() == pytest.approx(0.6)
    assert len(fake_slack.rate_limited) == 1
