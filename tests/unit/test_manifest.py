"""manifest.yaml: valid for Slack, and it declares exactly what the code handles and calls."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "fixtures" / "slack-manifest-schema" / "manifest.schema.1.0.0.json"
SHARED_SCHEMA = ROOT.parent / "shared" / "slack" / "manifest-schema" / SCHEMA.name

# Every Web API method the code may call -> the bot scopes it needs (empty: no scope needed).
# A call to a method missing here fails `test_every_web_api_method_called_has_its_scopes`.
METHOD_SCOPES: dict[str, set[str]] = {
    "auth_test": set(),
    "api_test": set(),
    "chat_postMessage": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_delete": {"chat:write"},
    "chat_getPermalink": set(),
    "conversations_open": {"im:write"},
    # looking for a message whose send went unanswered: DMs, public and private channels
    "conversations_history": {"im:history", "channels:history", "groups:history"},
    "users_info": {"users:read", "users:read.email"},  # the email needs users:read.email
    "users_lookupByEmail": {"users:read.email"},
    "views_publish": set(),
    "views_open": set(),
    "views_update": set(),
    "views_push": set(),
    "files_upload_v2": {"files:write"},
    "files_getUploadURLExternal": {"files:write"},
    "files_completeUploadExternal": {"files:write"},
    "files_info": {"files:read"},
}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yaml").read_text())


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """What build_app registers: command names, event types, action and view ids."""
    from bot.app import build_app
    from bot.deps import build_deps
    from bot.settings import Settings

    seen: dict[str, set[str]] = {"command": set(), "event": set(), "action": set(), "view": set()}
    originals = {kind: getattr(AsyncApp, kind) for kind in seen}

    def spy(kind: str):  # type: ignore[no-untyped-def]
        def record(self, constraint, *args, **kwargs):  # type: ignore[no-untyped-def]
            if isinstance(constraint, dict):
                constraint = constraint.get("type") or constraint.get("action_id")
            seen[kind].add(str(getattr(constraint, "pattern", constraint)))
            return originals[kind](self, constraint, *args, **kwargs)

        return record

    settings = Settings(
        database_url=f"sqlite:///{tmp_path_factory.mktemp('m') / 'm.db'}",
        slack_bot_token="xoxb-test",
        slack_signing_secret="secret",
    )
    with pytest.MonkeyPatch.context() as patch:
        for kind in seen:
            patch.setattr(AsyncApp, kind, spy(kind))
        build_app(build_deps(settings))
    return seen


def test_manifest_is_valid_against_slacks_published_schema(manifest: dict[str, Any]) -> None:
    validator = Draft7Validator(json.loads(SCHEMA.read_text()))
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(manifest)]
    assert errors == []


@pytest.mark.skipif(not SHARED_SCHEMA.is_file(), reason="no ../shared beside this clone")
def test_the_schema_copy_in_tests_equals_the_published_one_in_shared() -> None:
    assert json.loads(SCHEMA.read_text()) == json.loads(SHARED_SCHEMA.read_text())


def test_manifest_commands_are_exactly_the_registered_slash_commands(
    manifest: dict[str, Any], registered: dict[str, set[str]]
) -> None:
    declared = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert declared == registered["command"]


def test_every_command_in_the_manifest_has_a_description_usage_hint_and_our_url(
    manifest: dict[str, Any],
) -> None:
    for command in manifest["features"]["slash_commands"]:
        assert command["description"] and command["usage_hint"], command["command"]
        assert command["url"] == "https://YOUR-HOST/slack/events"


def test_manifest_events_are_exactly_the_registered_event_listeners(
    manifest: dict[str, Any], registered: dict[str, set[str]]
) -> None:
    declared = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert declared == registered["event"]


def test_interactivity_is_on_when_buttons_or_modals_are_handled(
    manifest: dict[str, Any], registered: dict[str, set[str]]
) -> None:
    assert registered["action"], "the lead buttons are action listeners"
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")


def test_manifest_ships_for_http_mode_with_socket_mode_off(manifest: dict[str, Any]) -> None:
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")


def web_api_methods_called() -> dict[str, set[str]]:
    """AsyncWebClient/WebClient methods called anywhere in bot/ -> the files calling them."""
    called: dict[str, set[str]] = {}
    pattern = re.compile(r"\.([a-z]+_[A-Za-z_0-9]+)\(")
    for path in (ROOT / "bot").rglob("*.py"):
        for name in pattern.findall(path.read_text()):
            if hasattr(AsyncWebClient, name) and not name.startswith("_"):
                called.setdefault(name, set()).add(path.name)
    return called


def test_the_scan_finds_the_calls_we_know_the_bot_makes() -> None:
    called = web_api_methods_called()
    assert {"users_info", "views_publish", "files_upload_v2", "conversations_open"} <= set(called)


def test_every_web_api_method_called_has_its_scopes(manifest: dict[str, Any]) -> None:
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    called = web_api_methods_called()
    unknown = sorted(set(called) - set(METHOD_SCOPES))
    assert unknown == [], f"add these methods to METHOD_SCOPES: {unknown}"
    missing = {m: METHOD_SCOPES[m] - granted for m in called if METHOD_SCOPES[m] - granted}
    assert missing == {}


def test_no_bot_scope_is_granted_that_no_call_needs(manifest: dict[str, Any]) -> None:
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    needed = {"commands"}.union(*(METHOD_SCOPES[m] for m in web_api_methods_called()))
    assert granted - needed == set()
