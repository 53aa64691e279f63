"""A local Slack-compatible Web API server for tests and benchmarks.

It answers the Web API methods the bot uses, the files v2 upload URL and response_url
posts, records every call, and fails on demand (HTTP 429 with Retry-After, 5xx, or an
`ok: false` error) so retry and dead-letter paths can be tested over real HTTP.

`enforce_rate_limits()` turns on Slack's documented per-method rate limits (off by default):
each method's tier (https://api.slack.com/apis/rate-limits) as a token bucket that allows a
short burst, and chat.postMessage's "special" limit of one message per second per channel.
A call over its limit is answered 429 with Retry-After, as Slack does; `floor_seconds()`
says how long the calls Slack accepted needed at least under those limits.

Network faults, per method, after the call was handled (a posted message stays posted):
`slow(method, seconds)` answers late, `drop_answer(method)` closes the connection without an
answer. Posted messages are kept per conversation (`messages`) with their metadata, and
conversations.history returns them as Slack does (newest first, `oldest`, `limit`, `cursor`,
metadata only with `include_all_metadata`).
"""

from __future__ import annotations

import itertools
import json
import math
import random
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from slack_sdk import WebClient

HOST = "127.0.0.1"
INVALID_TOKEN = "xoxb-invalid"

TIER_CALLS_PER_MINUTE = {1: 1.0, 2: 20.0, 3: 50.0, 4: 100.0}
METHOD_TIERS = {  # as each method's page in Slack's API reference lists it
    "chat.update": 3,
    "chat.delete": 3,
    "chat.postEphemeral": 4,
    "conversations.open": 3,
    "conversations.history": 3,
    "users.info": 4,
    "users.lookupByEmail": 3,
    "views.publish": 4,
    "views.open": 4,
    "views.update": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "files.info": 4,
}
POST_MESSAGE_PER_SECOND = 1.0  # chat.postMessage: "1 per second per channel, short bursts"
BURST_CALLS = 3  # what a bucket holds when full: the short burst Slack tolerates


@dataclass
class Call:
    """One Web API call as the server saw it."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Failure:
    status: int = 200
    error: str | None = None
    retry_after: float | None = None
    times: int = 1


@dataclass
class _NetworkFault:
    """What happens to the answers of the next `times` calls (None: every call from now);
    with `share` < 1, to that share of them at random."""

    delay: float = 0.0
    drop: bool = False
    times: int | None = 1
    share: float = 1.0


@dataclass
class _Bucket:
    """A token bucket: `rate` calls per second, at most `capacity` in a burst."""

    rate: float
    capacity: float
    tokens: float
    at: float

    def take(self, now: float) -> float:
        """Take one call's token; 0 when allowed, else the seconds until one is there."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class User:
    id: str
    email: str
    name: str
    tz: str


class FakeSlack:
    """Start with `start()` (or `with FakeSlack() as fake:`); point SLACK_API_URL at `base_url`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []
        self.uploads: dict[str, bytes] = {}
        self.users: dict[str, User] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._faults: dict[str, list[_NetworkFault]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}  # posted, per conversation id
        self.dropped: list[Call] = []  # calls handled whose answer was never sent
        self._last_ts = 0.0
        self._failure_share: tuple[float, int, set[str] | None] | None = None
        self._random = random.Random(1)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._files: dict[str, dict[str, Any]] = {}
        self._limits_on = False
        self._buckets: dict[tuple[str, str | None], _Bucket] = {}
        self.admitted: dict[tuple[str, str | None], int] = {}  # calls let through, per bucket
        self.rate_limited: list[Call] = []  # calls answered 429 for going over a limit
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Serve on a free port of 127.0.0.1 in a background thread."""
        self._server = ThreadingHTTPServer((HOST, 0), _handler_for(self))
        self._server.daemon_threads = True
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        """Answer connections until `stop()` writes to the wake-up socket.

        `serve_forever` notices a shutdown only at its next 0.5 s poll; waiting on the
        listening socket and the wake-up socket together stops at once."""
        assert self._server is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._server, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _ in selector.select()}
                if self._wake_reader in ready:
                    return
                self._server.handle_request()

    def stop(self) -> None:
        if self._server and self._thread:
            self._wake_writer.send(b"x")
            self._thread.join()
            self._server.server_close()
            self._wake_reader.close()
            self._wake_writer.close()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server, "FakeSlack is not started"
        return f"http://{HOST}:{self._server.server_port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/"

    def web_client(self, token: str = "xoxb-test", timeout: float = 5) -> WebClient:
        """A Web API client for this server that does not retry (the tests count each call)."""
        return WebClient(  # slack_sdk types `timeout` int; a float (0.5 s) works
            token=token,
            base_url=self.base_url,
            retry_handlers=[],
            timeout=timeout,  # type: ignore[arg-type]
        )

    # ---- test controls ---------------------------------------------------------------

    def add_user(
        self, user_id: str, email: str, name: str = "", tz: str = "America/New_York"
    ) -> None:
        """Make a workspace member known to users.info and users.lookupByEmail."""
        self.users[user_id] = User(user_id, email, name or email.split("@")[0], tz)

    def response_url(self, name: str | None = None) -> str:
        """A response_url whose posts land in `responses`."""
        return f"{self.url}/response/{name or next(self._ids)}"

    def fail(
        self,
        method: str,
        status: int = 429,
        *,
        error: str | None = None,
        retry_after: float | None = 1,
        times: int = 1,
    ) -> None:
        """Fail the next `times` calls to `method`: HTTP `status`, or `ok: false` with `error`."""
        failure = (
            _Failure(status=200, error=error, times=times)
            if error
            else _Failure(
                status=status, retry_after=retry_after if status == 429 else None, times=times
            )
        )
        with self._lock:
            self._failures.setdefault(method, []).append(failure)

    def fail_share(
        self, share: float, status: int = 500, seed: int = 1, methods: set[str] | None = None
    ) -> None:
        """Fail a random `share` of calls (to `methods`, default all) with HTTP `status`."""
        with self._lock:
            self._failure_share = (share, status, methods)
            self._random = random.Random(seed)

    def slow(
        self, method: str, seconds: float, *, times: int | None = None, share: float = 1.0
    ) -> None:
        """Answer the next `times` calls to `method` (default: all from now; a random `share`
        of them) `seconds` late; the call is handled (a message posted) before the wait."""
        fault = _NetworkFault(delay=seconds, times=times, share=share)
        with self._lock:
            self._faults.setdefault(method, []).append(fault)

    def drop_answer(self, method: str, *, times: int | None = 1, share: float = 1.0) -> None:
        """Handle the next `times` calls to `method` (None: all from now; a random `share` of
        them), then close the connection without an answer: the message is posted, the
        caller never hears so."""
        fault = _NetworkFault(drop=True, times=times, share=share)
        with self._lock:
            self._faults.setdefault(method, []).append(fault)

    def posted(self, dedupe_key: str) -> list[dict[str, Any]]:
        """Every message posted with this outbox dedupe key in its metadata."""
        with self._lock:
            return [
                message
                for messages in self.messages.values()
                for message in messages
                if (message.get("metadata") or {}).get("event_payload", {}).get("dedupe_key")
                == dedupe_key
            ]

    def enforce_rate_limits(self, on: bool = True) -> None:
        """Answer 429 to calls over Slack's per-method limits (full buckets from now)."""
        with self._lock:
            self._limits_on = on
            self._buckets.clear()
            self.admitted.clear()
            self.rate_limited.clear()

    def floor_seconds(self) -> float:
        """The least time the calls let through so far needed under the limits: the slowest
        bucket's calls beyond its burst, at its rate."""
        with self._lock:
            return max(
                (
                    max(0, calls - BURST_CALLS) / _limit(method)
                    for (method, _), calls in self.admitted.items()
                ),
                default=0.0,
            )

    def reset(self) -> None:
        """Forget calls, responses, uploads, posted messages, injected failures and faults, and
        rate-limit state."""
        with self._lock:
            self.calls.clear()
            self.responses.clear()
            self.uploads.clear()
            self.messages.clear()
            self.dropped.clear()
            self._failures.clear()
            self._faults.clear()
            self._failure_share = None
            self._buckets.clear()
            self.admitted.clear()
            self.rate_limited.clear()

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, condition: Callable[[], object], timeout: float = 5.0) -> bool:
        """Poll `condition` until it is true (truthy) or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.01)
        return bool(condition())

    # ---- request handling ------------------------------------------------------------

    def _injected_failure(self, method: str) -> _Failure | None:
        with self._lock:
            queue = self._failures.get(method)
            if queue:
                failure = queue[0]
                failure.times -= 1
                if failure.times <= 0:
                    queue.pop(0)
                return failure
            if self._failure_share:
                share, status, methods = self._failure_share
                if (methods is None or method in methods) and self._random.random() < share:
                    return _Failure(status=status)
        return None

    def _network_fault(self, method: str) -> _NetworkFault | None:
        """The fault for this call's answer (consumed), if one is set for its method."""
        with self._lock:
            queue = self._faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            if fault.share < 1 and self._random.random() >= fault.share:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    queue.pop(0)
            return fault

    def _over_limit(self, call: Call) -> float:
        """0 when `call` is within its method's limit, else the seconds until it would be."""
        if call.method != "chat.postMessage" and call.method not in METHOD_TIERS:
            return 0.0
        channel = None
        if call.method == "chat.postMessage":  # a DM is the same conversation by U or D id
            channel = str(call.params.get("channel", ""))
            channel = "D" + channel[1:] if channel.startswith("U") else channel
        key = (call.method, channel)
        with self._lock:
            if not self._limits_on:
                return 0.0
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = _Bucket(_limit(call.method), BURST_CALLS, BURST_CALLS, call.at)
                self._buckets[key] = bucket
            wait = bucket.take(call.at)
            if wait:
                self.rate_limited.append(call)
            else:
                self.admitted[key] = self.admitted.get(key, 0) + 1
            return wait

    def _answer(
        self, method: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Return (HTTP status, extra headers, JSON body) for one Web API call."""
        call = Call(method, params, headers)
        with self._lock:
            self.calls.append(call)
        wait = self._over_limit(call)
        if wait:
            retry_after = str(max(1, math.ceil(wait)))  # Slack sends whole seconds
            return 429, {"Retry-After": retry_after}, {"ok": False, "error": "ratelimited"}
        failure = self._injected_failure(method)
        if failure and failure.status != 200:
            extra = (
                {"Retry-After": str(int(failure.retry_after))}
                if failure.retry_after is not None
                else {}
            )
            return (
                failure.status,
                extra,
                {"ok": False, "error": "ratelimited" if failure.status == 429 else "fatal_error"},
            )
        if failure and failure.error:
            return 200, {}, {"ok": False, "error": failure.error}
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        token = token or str(params.get("token", ""))
        if not token:
            return 200, {}, {"ok": False, "error": "not_authed"}
        if token == INVALID_TOKEN:
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method"}
        return 200, {}, handler(params)

    def _ts(self) -> str:
        """A message time stamp: the wall clock, unique and increasing."""
        with self._lock:
            self._last_ts = max(time.time(), self._last_ts + 0.000001)
            return f"{self._last_ts:.6f}"

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
            "team": "Fake Sales",
            "user": "salesops",
            "team_id": "T0FAKE",
            "user_id": "U0BOT",
            "bot_id": "B0BOT",
        }

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if channel.startswith("U"):
            channel = "D" + channel[1:]
        metadata = params.get("metadata")
        metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
        message = {
            "type": "message",
            "ts": self._ts(),
            "bot_id": "B0BOT",
            "text": params.get("text"),
            "blocks": params.get("blocks"),
            **({"metadata": metadata} if metadata else {}),
        }
        with self._lock:
            self.messages.setdefault(channel, []).append(message)
        shown = {k: v for k, v in message.items() if k != "metadata"}
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": shown}

    def _m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if not channel.startswith(("C", "D", "G")):
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or "inf")
        limit = min(999, int(params.get("limit") or 100))
        start = int(params.get("cursor") or 0)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        with self._lock:
            found = [m for m in self.messages.get(channel, []) if oldest < float(m["ts"]) < latest]
        found.reverse()  # newest first
        page = found[start : start + limit]
        if not with_metadata:
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._ts()}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "channel": params.get("channel"),
            "ts": params.get("ts"),
            "text": params.get("text"),
        }

    def _m_chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}

    def _m_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", "")).split(",")[0]
        return {"ok": True, "channel": {"id": "D" + users.removeprefix("U")}}

    def _user_json(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "name": user.name,
            "real_name": user.name,
            "tz": user.tz,
            "profile": {"email": user.email, "real_name": user.name},
        }

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user")))
        if not user:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self._user_json(user)}

    def _m_users_lookupByEmail(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email", "")).lower()
        user = next((u for u in self.users.values() if u.email.lower() == email), None)
        if not user:
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": self._user_json(user)}

    def _view(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        return {"ok": True, "view": {"id": f"V{next(self._ids)}", **(view or {})}}

    _m_views_publish = _view
    _m_views_open = _view
    _m_views_update = _view

    def _m_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):08d}"
        self._files[file_id] = {
            "id": file_id,
            "name": params.get("filename"),
            "length": int(params.get("length", 0)),
        }
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        done = []
        for item in files:
            meta = self._files.get(item.get("id"))
            if meta is None or item.get("id") not in self.uploads:
                return {"ok": False, "error": "file_not_found"}
            meta["title"] = item.get("title")
            done.append(dict(meta))
        return {"ok": True, "files": done}

    def _m_files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        meta = self._files.get(str(params.get("file")))
        return {"ok": True, "file": meta} if meta else {"ok": False, "error": "file_not_found"}


def _limit(method: str) -> float:
    """Calls per second a method (a chat.postMessage channel) is allowed."""
    if method == "chat.postMessage":
        return POST_MESSAGE_PER_SECOND
    return TIER_CALLS_PER_MINUTE[METHOD_TIERS[method]] / 60


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        return json.loads(raw)
    return {key: values[-1] for key, values in parse_qs(raw.decode()).items()}


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            try:
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the caller gave up waiting
                self.close_connection = True

        def do_GET(self) -> None:
            self.do_POST()

        def do_POST(self) -> None:
            parsed = urlparse(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if parsed.path.startswith("/upload/"):
                fake.uploads[parsed.path.rsplit("/", 1)[1]] = raw
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")
                return
            if parsed.path.startswith("/response/"):
                body = json.loads(raw or b"{}")
                with fake._lock:
                    fake.responses.append({**body, "_path": parsed.path})
                self._send(200, {"ok": True}, {})
                return
            if not parsed.path.startswith("/api/"):
                self._send(404, {"ok": False, "error": "not_found"}, {})
                return
            params = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
            params.update(_parse_body(raw, headers.get("content-type", "")))
            method = parsed.path.removeprefix("/api/")
            status, extra, body = fake._answer(method, params, headers)
            fault = fake._network_fault(method)
            if fault and fault.delay:
                time.sleep(fault.delay)
            if fault and fault.drop:
                with fake._lock:
                    fake.dropped.append(Call(method, params, headers))
                self.close_connection = True  # handled, never answered
                return
            self._send(status, body, extra)

    return Handler
