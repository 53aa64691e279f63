"""What the HTTP server checks before any route reads a request: nothing from a request is used
before it is verified.

- Body caps (413), by Content-Length and by counting the bytes as they stream in, so a
  chunked flood is refused at the first chunk past the cap instead of being buffered.
- The ingest API's bearer token, checked before its body is read (`bot.api`).
- Who may read /metrics and the OpenAPI pages: loopback clients, holders of a token, or
  everyone when the operator says so (settings `SALESOPS_METRICS_*`, `SALESOPS_API_DOCS_PUBLIC`).
- Slack's signature, verified over the raw body before Bolt parses it (`verify_slack_request`):
  an unverified request never reaches a listener, so no reply can go to its response_url.
"""

from __future__ import annotations

import ipaddress
import re
import time
from dataclasses import dataclass

from slack_sdk.signature import SignatureVerifier
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.api import bearer_token_matches, ingest_token_refusal

# A Slack payload is small: the largest we can get is a button press on one of our messages,
# which carries the message (50 blocks of at most 3,000 characters, ~150 KB), form-encoded
# (up to ~3x). 512 KiB holds that with room.
SLACK_BODY_LIMIT = 512 * 1024
# The ingest API takes batches of up to 1,000 records; 1,000 deals with every text field at its
# length limit are ~2.3 MB of JSON, so 4 MiB holds a full batch.
API_BODY_LIMIT = 4 * 1024 * 1024
# Every other route takes no body.
OTHER_BODY_LIMIT = 64 * 1024

# Slack's replay window for X-Slack-Request-Timestamp.
SIGNATURE_MAX_AGE_SECONDS = 5 * 60
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_LENGTH = re.compile(r"[0-9]{1,18}")


class BodyTooLarge(HTTPException):
    """The request body is over its route's cap (raised from `receive`, answered 413)."""

    def __init__(self, limit: int) -> None:
        size = f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit // 1024} KiB"
        super().__init__(413, f"The request body is over the {size} limit of this endpoint.")


@dataclass(frozen=True)
class Exposure:
    """Who may read an operations page: loopback clients always; others with `token` as a
    bearer token, or anyone when `public`."""

    name: str
    public: bool
    token: str | None
    how_to_open: str

    def refusal(self, scope: Scope, authorization: str | None) -> HTTPException | None:
        """None when the request may read the page, else the 401/403 to answer."""
        if self.public or is_loopback(scope):
            return None
        if self.token and bearer_token_matches(authorization, self.token):
            return None
        if self.token:
            return HTTPException(
                401,
                f"{self.name} needs Authorization: Bearer <token> from outside this host.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return HTTPException(403, f"{self.name} answers this host only; {self.how_to_open}.")


def is_loopback(scope: Scope) -> bool:
    """True when the client address is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x)."""
    client = scope.get("client")
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _route_path(scope: Scope) -> str:
    """The path the router matches: without the `root_path` a mount or `--root-path` puts in
    front (the guard must judge the route that will answer, not the URL's spelling of it)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class RequestGuard:
    """Pure ASGI middleware in front of every route: exposure, ingest token, body caps."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        api_prefix: str,
        docs_paths: tuple[str, ...],
        ingest_token: str | None,
        metrics: Exposure,
        docs: Exposure,
        slack_path: str,
    ) -> None:
        self.app = app
        self.api_prefix = api_prefix.rstrip("/") + "/"
        self.docs_paths = docs_paths
        self.ingest_token = ingest_token
        self.metrics = metrics
        self.docs = docs
        self.slack_path = slack_path

    def _limit(self, path: str) -> int:
        if path == self.slack_path:
            return SLACK_BODY_LIMIT
        if path.startswith(self.api_prefix):
            return API_BODY_LIMIT
        return OTHER_BODY_LIMIT

    def _refusal(self, scope: Scope, path: str) -> HTTPException | None:
        authorization = _header(scope, b"authorization")
        if path == "/metrics":
            return self.metrics.refusal(scope, authorization)
        if path in self.docs_paths or any(path.startswith(p + "/") for p in self.docs_paths):
            return self.docs.refusal(scope, authorization)
        if path.startswith(self.api_prefix):
            return ingest_token_refusal(self.ingest_token, authorization)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = _route_path(scope)
        refusal = self._refusal(scope, path)
        limit = self._limit(path)
        if refusal is None:
            refusal = _declared_length_refusal(_header(scope, b"content-length"), limit)
        if refusal is not None:
            await _answer(refusal, scope, receive, send)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:  # raised where no route turned it into a response
            if started:
                raise
            await _answer(exc, scope, receive, send)


def _declared_length_refusal(content_length: str | None, limit: int) -> HTTPException | None:
    if content_length is None:
        return None
    if not _LENGTH.fullmatch(content_length):
        return HTTPException(400, "The Content-Length header is not a valid byte count.")
    if int(content_length) > limit:
        return BodyTooLarge(limit)
    return None


async def _answer(refusal: HTTPException, scope: Scope, receive: Receive, send: Send) -> None:
    """Send `refusal` as FastAPI would (JSON `detail`) and close: the body is never read."""
    headers = {**(refusal.headers or {}), "Connection": "close"}
    response = JSONResponse({"detail": refusal.detail}, refusal.status_code, headers=headers)
    await response(scope, receive, send)


async def verify_slack_request(request: Request, verifier: SignatureVerifier | None) -> None:
    """Return when Slack signed this request; else raise 401 (not signed) or 400 (not UTF-8).

    Each header must come once and be well formed (a timestamp of digits within
    SIGNATURE_MAX_AGE_SECONDS, a `v0=` hex signature) before anything else happens, so no
    malformed header can raise inside the verifier. The body is read under the body cap.
    """
    if verifier is None:
        raise HTTPException(503, "Slack requests are refused: set SLACK_SIGNING_SECRET.")
    timestamps = request.headers.getlist("x-slack-request-timestamp")
    signatures = request.headers.getlist("x-slack-signature")
    if len(timestamps) != 1 or len(signatures) != 1:
        raise _not_signed()
    timestamp, signature = timestamps[0], signatures[0]
    if not (_TIMESTAMP.fullmatch(timestamp) and _SIGNATURE.fullmatch(signature)):
        raise _not_signed()
    if abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
        raise _not_signed()
    raw = await request.body()
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "The request body is not UTF-8.") from None
    if not verifier.is_valid(body, timestamp, signature):
        raise _not_signed()


def _not_signed() -> HTTPException:
    return HTTPException(401, "The request is not signed by Slack (X-Slack-Signature).")
