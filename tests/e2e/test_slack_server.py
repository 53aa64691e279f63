"""The local Slack server behaves like Slack for the calls the bot makes."""

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from tests.support.slack_server import INVALID_TOKEN


def client(fake_slack, token="xoxb-test", retries=()):
    return WebClient(token=token, base_url=fake_slack.base_url, retry_handlers=list(retries))


def test_post_message_is_recorded_and_returns_a_ts(fake_slack):
    answer = client(fake_slack).chat_postMessage(channel="U123", text="hello")
    assert answer["ok"] and answer["channel"] == "D123" and answer["ts"]
    (call,) = fake_slack.calls_to("chat.postMessage")
    assert call.params["text"] == "hello"


def test_injected_429_is_retried_by_the_rate_limit_handler(fake_slack):
    fake_slack.fail("chat.postMessage", 429, retry_after=0, times=1)
    retry = RateLimitErrorRetryHandler(max_retry_count=2)
    answer = client(fake_slack, retries=[retry]).chat_postMessage(channel="U1", text="x")
    assert answer["ok"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_injected_error_and_invalid_token_answer_ok_false(fake_slack):
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as raised:
        client(fake_slack).chat_postMessage(channel="C1", text="x")
    assert raised.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as raised:
        client(fake_slack, token=INVALID_TOKEN).auth_test()
    assert raised.value.response["error"] == "invalid_auth"


def test_files_upload_v2_goes_through_the_three_steps(fake_slack):
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    answer = client(fake_slack).files_upload_v2(content=png, filename="c.png", title="Chart")
    assert answer["ok"]
    file_id = answer["file"]["id"]
    assert fake_slack.uploads[file_id] == png
    assert fake_slack.calls_to("files.getUploadURLExternal")
    assert fake_slack.calls_to("files.completeUploadExternal")


def test_response_url_posts_are_recorded(fake_slack):
    url = fake_slack.response_url("r1")
    WebhookClient(url).send(text="hi", response_type="ephemeral")
    assert fake_slack.responses == [
        {"text": "hi", "response_type": "ephemeral", "_path": "/response/r1"}
    ]


def test_users_lookup_by_email(fake_slack):
    fake_slack.add_user("U9", "ana@example.com", "Ana")
    found = client(fake_slack).users_lookupByEmail(email="ANA@example.com")
    assert found["user"]["id"] == "U9"
    with pytest.raises(SlackApiError):
        client(fake_slack).users_lookupByEmail(email="nobody@example.com")
