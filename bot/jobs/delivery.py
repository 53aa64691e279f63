"""The outbox dispatcher: claims due rows, sends them through the Web API, records the outcome.

- Claims are leases (`salesops_core.outbox.claim`): any number of dispatchers may run; each
  row is sent by the one that holds its lease. While it works through a batch, a heartbeat
  thread renews the batch's leases, so a slow Slack never costs a live sender its rows; one
  that dies leaves them to be taken over when the short lease expires (seconds).
- HTTP 429: the row waits for `Retry-After` (not counted as a failed attempt) and the rest of
  the batch is handed back with the same wait, so a rate-limited dispatcher stops hammering.
- HTTP 5xx, timeouts and connection errors: retried with exponential backoff, dead after
  `MAX_ATTEMPTS`. Permanent errors (`channel_not_found`, ...) are dead-lettered at once.
- A row is a typed notice; it becomes a Slack message here, when it is sent
  (`commands.notices.render`), or a file (`render_file`: the files v2 upload). An edit (a row
  that points at an earlier, delivered row) is a chat.update of that message, found by the
  location recorded on its row. A follow-up (a digest's chart) is claimed only once the row it
  follows is sent, and goes into that message's conversation; if that row is dead, so is it.
- A recipient given as a mailbox ("Name <email>": a person without a Slack id) is looked up
  with users.lookupByEmail when sent; no match is dead-lettered with the person's name.
- Calls are spaced to Slack's per-method rate limits (`bot.jobs.pacing`) when a `Pacer` is
  given, so a 429 is the exception; a wait of over half a lease hands the row back.
- Exactly once: right before a chat.postMessage the claim is checked again and the row stamped
  `ambiguous_since` (committed). A send whose outcome is unknown (timeout, dropped connection,
  5xx, or a sender killed mid-send) keeps the stamp; whoever claims the row next looks for the
  message by its dedupe key (carried in Slack message metadata) in the conversation's history
  (`bot.jobs.reconcile`), records its `ts` if it is there, and sends only if it is not. Where
  the history cannot be read (a missing scope, a channel given by name), it sends again.
  File uploads and edits are not looked up: an edit repeated changes nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.client import HTTPException
from typing import Any, TypeVar
from urllib.error import URLError

from prometheus_client.core import GaugeMetricFamily
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.deps import Deps
from bot.jobs.pacing import ApiCall, Pacer, WouldWait
from bot.jobs.reconcile import outbox_metadata, posted_keys
from bot.settings import Settings
from commands.notices import UnreadableNotice, is_file, render, render_file
from salesops_core import outbox
from salesops_core.db.engine import connection_lost, transaction
from salesops_core.db.models import OutboxStatus
from salesops_core.errors import ConfigError
from salesops_core.outbox import ClaimedMessage
from salesops_core.timeutil import utcnow

log = logging.getLogger("salesops.delivery")

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "account_inactive",
        "invalid_auth",
        "token_revoked",
        "user_not_found",
        "is_archived",
        "cannot_dm_bot",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
    }
)
NO_RECIPIENT = "no_recipient: no Slack user id (a rep without slack_user_id, or no manager)"
EDIT_TARGET_MISSING = "edit_target_missing: the message to edit was never delivered"
FOLLOWED_UNDELIVERED = "followed_undelivered: the message this follows was not delivered"
UPLOAD_CALLS = (ApiCall("files.getUploadURLExternal"), ApiCall("files.completeUploadExternal"))
HTTP_TIMEOUT_SECONDS = 10
# A request that failed on the way (timeouts, URLError and dropped connections are OSErrors;
# an answer cut off mid-way is an HTTPException)
NETWORK_ERRORS = (OSError, HTTPException)
# A kill is noticed within the lease. The heartbeat renews every 5 s, so a live sender keeps
# its rows through two failed renewals (a database blip); the lease is above the HTTP timeout,
# so a dead or cut-off sender's last request has ended before anyone looks for its message.
LEASE_SECONDS = 15.0
HEARTBEAT_SECONDS = 5.0
# A request that got no answer: give Slack as long as a request may take before looking for
# it (a 5xx is an answer: Slack is done with that request, so it is looked for at once).
SETTLE_SECONDS = float(HTTP_TIMEOUT_SECONDS)
T = TypeVar("T")


def make_sync_client(settings: Settings, *, timeout: int = HTTP_TIMEOUT_SECONDS) -> WebClient:
    """A Web API client at SLACK_API_URL without built-in retries (the outbox retries)."""
    if not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-...).")
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=[],
        logger=logging.getLogger("salesops.slack"),
    )


def worker_name() -> str:
    """A claim token unique to this dispatcher: host, process and a random suffix."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class NoSlackUser(Exception):
    """A mailbox recipient whose email matches no one in the workspace (or who has none)."""


class LeaseLost(Exception):
    """The row's claim was taken over before its send began: it is not this sender's."""


class LookupFailed(Exception):
    """Looking in Slack for an unconfirmed send failed for now (`wait`: a 429's Retry-After)."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


@dataclass
class DispatchStats:
    """What one pass of the dispatcher did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    reconciled: int = 0  # of `sent`: found already in Slack after an unknown outcome
    lease_lost: int = 0  # taken over by another dispatcher before the send began
    rate_limited: bool = False
    errors: list[str] = field(default_factory=list)


class Dispatcher:
    """Sends outbox rows; one per thread or process, as many as wanted."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: WebClient,
        *,
        worker: str | None = None,
        batch_size: int = 20,
        lease_seconds: float = LEASE_SECONDS,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        settle_seconds: float = SETTLE_SECONDS,
        clock: Callable[[], datetime] | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.worker = worker or worker_name()
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.settle_seconds = settle_seconds
        self.clock = clock or utcnow
        self.pacer = pacer
        self._shift = timedelta(0)
        self._dms: dict[str, str] = {}  # user id -> their DM's id (conversations.open)
        # this batch: the first unconfirmed send, and the conversations already looked at
        self._unconfirmed_since: datetime | None = None
        self._histories: dict[str, dict[str, str]] = {}

    def _now(self) -> datetime:
        """The dispatcher's time: its clock, shifted to the `now` the current run was given."""
        return self.clock() + self._shift

    def claim(self, now: datetime | None = None) -> list[ClaimedMessage]:
        """Lease a batch of due rows (committed before anything is sent)."""
        self._shift = (now - self.clock()) if now is not None else timedelta(0)
        with transaction(self.sessions) as session:
            return outbox.claim(
                session,
                self.worker,
                limit=self.batch_size,
                lease_seconds=self.lease_seconds,
                now=self._now(),
            )

    def run_once(self, now: datetime | None = None) -> DispatchStats:
        """Claim one batch and deliver it, renewing its leases meanwhile; what happened."""
        messages = self.claim(now)
        stats = DispatchStats(claimed=len(messages))
        stamps = [m.ambiguous_since for m in messages if m.ambiguous_since is not None]
        self._unconfirmed_since = min(stamps, default=None)
        self._histories = {}
        with self._heartbeat([message.id for message in messages]):
            for index, message in enumerate(messages):
                retry_after = self.deliver(message, stats)
                if retry_after is not None:
                    self._hand_back(messages[index + 1 :], retry_after)
                    break
        return stats

    @contextmanager
    def _heartbeat(self, ids: list[int]) -> Iterator[None]:
        """Renew the leases of `ids` every `heartbeat_seconds` until the block ends."""
        if not ids:
            yield
            return
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.heartbeat_seconds):
                try:
                    with transaction(self.sessions) as session:
                        outbox.renew_leases(
                            session,
                            self.worker,
                            ids,
                            lease_seconds=self.lease_seconds,
                            now=self._now(),
                        )
                except SQLAlchemyError as exc:  # the next beat tries again
                    log.warning("dispatcher %s: lease renewal failed: %s", self.worker, exc)

        thread = threading.Thread(target=beat, name=f"heartbeat-{self.worker}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    def _write(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a transaction, once more on a fresh connection if the database cut
        the first one off (every write here is checked against the claim, so it is safe)."""
        try:
            with transaction(self.sessions) as session:
                return work(session)
        except DBAPIError as exc:
            if not connection_lost(exc):
                raise
            log.warning("dispatcher %s: database connection lost; once more", self.worker)
        with transaction(self.sessions) as session:
            return work(session)

    def drain(self, max_batches: int = 50) -> DispatchStats:
        """Run batches until nothing is due (or rate limited); returns the totals.

        A batch that delivered something is followed by another, which takes the follow-ups
        those deliveries let through."""
        total = DispatchStats()
        for _ in range(max_batches):
            stats = self.run_once()
            for name in ("claimed", "sent", "retried", "dead", "reconciled", "lease_lost"):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
            total.errors += stats.errors
            finished = stats.claimed < self.batch_size and stats.sent + stats.dead == 0
            if stats.rate_limited or finished:
                total.rate_limited = stats.rate_limited
                break
        return total

    def run_forever(self, stop: threading.Event, idle_seconds: float = 0.2) -> None:
        """Deliver until `stop` is set, polling every `idle_seconds` when idle."""
        while not stop.is_set():
            try:
                stats = self.drain()
            except Exception:
                log.exception("dispatcher %s: pass failed; trying again", self.worker)
                stop.wait(1.0)
                continue
            if stats.claimed == 0 or stats.rate_limited:
                stop.wait(idle_seconds)

    def deliver(self, message: ClaimedMessage, stats: DispatchStats) -> float | None:
        """Send one claimed message and record the outcome; a 429's wait, else None."""
        undeliverable = _undeliverable(message)
        if undeliverable is not None:
            self._finish(message, stats, dead=undeliverable)
            return None
        try:
            if message.ambiguous_since is not None and self._found_in_slack(message, stats):
                return None
            response = self.send(message)
        except LeaseLost:
            log.info("outbox %s: taken over before it was sent; left to its new owner", message.id)
            stats.lease_lost += 1
            return None
        except LookupFailed as exc:
            self._finish(message, stats, retry=str(exc), delay=exc.wait, free=exc.wait is not None)
            stats.rate_limited = exc.wait is not None
            return exc.wait
        except (UnreadableNotice, NoSlackUser) as exc:
            reason = str(exc) if isinstance(exc, NoSlackUser) else f"unreadable_notice: {exc}"
            self._finish(message, stats, dead=reason)
            return None
        except WouldWait as exc:
            self._finish(message, stats, retry=str(exc), delay=exc.seconds, free=True)
            stats.rate_limited = True
            return exc.seconds
        except SlackApiError as exc:
            return self._failed(message, exc, stats)
        except SlackRequestError as exc:  # the files v2 upload step itself failed
            self._finish(message, stats, retry=f"upload: {exc}")
            return None
        except NETWORK_ERRORS as exc:
            reason = f"network: {exc.__class__.__name__}: {exc}"
            if not _may_have_arrived(exc):
                self._finish(message, stats, retry=reason, settled=True)
                return None
            # no answer: Slack may still be working on it, so look only after it had time
            wait = max(outbox.backoff_seconds(message.attempts), self.settle_seconds)
            self._finish(message, stats, retry=reason, delay=wait, settled=False)
            return None
        self._finish(message, stats, response=response)
        return None

    def _found_in_slack(self, message: ClaimedMessage, stats: DispatchStats) -> bool:
        """Look for an unconfirmed send in its conversation; if it is there, record it as sent.

        A conversation's history is read once a batch, from the batch's first unconfirmed
        send: every unconfirmed send of the batch began before the read. Raises
        `LookupFailed` when Slack cannot answer now; when it never will (a missing history
        scope, a channel given by name), the message is sent again (False)."""
        since = self._unconfirmed_since or message.ambiguous_since
        assert since is not None
        try:
            channel = self._conversation(message)
            if channel not in self._histories:
                self._histories[channel] = posted_keys(
                    self.client,
                    channel,
                    since=since,
                    before_call=lambda: self._pace(ApiCall("conversations.history")),
                )
            ts = self._histories[channel].get(message.dedupe_key)
        except SlackApiError as exc:
            status, error = exc.response.status_code, exc.response.get("error")
            if status == 429:
                wait = _retry_after(exc.response.headers)
                raise LookupFailed("history: rate limited", wait) from exc
            if status >= 500:
                raise LookupFailed(f"history: {error} (HTTP {status})") from exc
            log.warning(
                "outbox %s: cannot read its conversation (%s); sending again", message.id, error
            )
            return False
        except NETWORK_ERRORS as exc:
            raise LookupFailed(f"history: network: {exc.__class__.__name__}: {exc}") from exc
        if ts is None:
            return False
        log.info(
            "outbox %s (%s): already in Slack at %s, not sent again",
            message.id,
            message.dedupe_key,
            ts,
        )
        self._finish(message, stats, response={"channel": channel, "ts": ts})
        stats.reconciled += 1
        return True

    def _conversation(self, message: ClaimedMessage) -> str:
        """The conversation id a post lands in (a person's: their DM, from conversations.open)."""
        recipient = self._destination(message)
        if not recipient.startswith(("U", "W")):
            return recipient
        if recipient not in self._dms:
            self._pace(ApiCall("conversations.open"))
            opened = self.client.conversations_open(users=recipient)
            self._dms[recipient] = str(opened["channel"]["id"])
        return self._dms[recipient]

    def send(self, message: ClaimedMessage) -> dict[str, Any]:
        """The Web API calls: chat.postMessage to a channel or user id (a user id opens the
        DM; a follow-up goes into its message's conversation), chat.update of the earlier
        message an edit points at, or the files v2 upload of a file notice."""
        if is_file(message.kind):
            return self._upload(message)
        rendered = render(message.kind, message.payload)
        if message.edits is not None:
            self._pace(ApiCall("chat.update"))
            self._begin(message, posts=False)
            response = self.client.chat_update(
                channel=message.edits.channel,
                ts=message.edits.ts,
                text=rendered.text,
                blocks=rendered.blocks,
            )
        else:
            channel = self._destination(message)
            self._pace(ApiCall("chat.postMessage", channel))
            self._begin(message, posts=True)
            response = self.client.chat_postMessage(
                channel=channel,
                text=rendered.text,
                blocks=rendered.blocks,
                metadata=outbox_metadata(message.dedupe_key),
                unfurl_links=False,
            )
        return dict(response.data) if isinstance(response.data, dict) else {}

    def _upload(self, message: ClaimedMessage) -> dict[str, Any]:
        """Share a file notice into its conversation: after the message it follows, or to
        its recipient. Slack shares the file asynchronously, so no `ts` is recorded.

        A failure before files.completeUploadExternal leaves an unshared file that nobody
        sees; the retry uploads it again, so a 429 or 5xx on any step shares it once."""
        file = render_file(message.kind, message.payload)
        channel = self._destination(message)
        self._pace(*UPLOAD_CALLS)
        self._begin(message, posts=False)
        self.client.files_upload_v2(
            channel=channel,
            thread_ts=None,
            file=file.content,
            filename=file.filename,
            title=file.title,
            alt_txt=file.alt_text,
            initial_comment=file.initial_comment,
        )
        return {"channel": channel, "ts": None}

    def _destination(self, message: ClaimedMessage) -> str:
        """Where a post or file goes: the conversation of the message it follows, or the
        recipient."""
        return message.follows.channel if message.follows else self._recipient(message)

    def _recipient(self, message: ClaimedMessage) -> str:
        """The Slack id to send to: the row's, or a mailbox's looked up by its email."""
        recipient = str(message.channel)
        person = outbox.mailbox_parts(recipient)
        if person is None:
            return recipient
        name, email = person
        if not email:
            raise NoSlackUser(
                f"no Slack user for {name} (no email on record): set slack_user_id or the email"
            )
        self._pace(ApiCall("users.lookupByEmail"))
        try:
            found = self.client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if exc.response.get("error") == "users_not_found":
                raise NoSlackUser(
                    f"no Slack user for {name} <{email}>: set slack_user_id or the Slack email"
                ) from None
            raise
        return str(found["user"]["id"])

    def _begin(self, message: ClaimedMessage, *, posts: bool) -> None:
        """Check the claim and renew its lease right before the send (stamping a post as
        unconfirmed until its answer is recorded); `LeaseLost` if it was taken over."""

        def begin(session: Session) -> bool:
            return outbox.begin_send(
                session, message, lease_seconds=self.lease_seconds, posts=posts, now=self._now()
            )

        if not self._write(begin):
            raise LeaseLost(message.id)

    def _pace(self, *calls: ApiCall) -> None:
        """Wait for the calls' slots under Slack's rate limits, at most half a lease per call
        (the heartbeat holds the batch meanwhile); a longer wait hands the row back."""
        if self.pacer is not None:
            self.pacer.wait_for(calls, max_wait=self.lease_seconds / 2)

    def _failed(
        self, message: ClaimedMessage, exc: SlackApiError, stats: DispatchStats
    ) -> float | None:
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"http_{status}")
        if status == 429:
            wait = _retry_after(exc.response.headers)
            reason = f"rate limited ({wait:g}s)"
            self._finish(message, stats, retry=reason, delay=wait, free=True, settled=True)
            stats.rate_limited = True
            return wait
        if error in PERMANENT_ERRORS:
            self._finish(message, stats, dead=error)
        else:  # an `ok: false` answer posted nothing; a 5xx may come after Slack posted
            self._finish(message, stats, retry=f"{error} (HTTP {status})", settled=status < 500)
        return None

    def _finish(
        self,
        message: ClaimedMessage,
        stats: DispatchStats,
        *,
        response: dict[str, Any] | None = None,
        retry: str | None = None,
        dead: str | None = None,
        delay: float | None = None,
        free: bool = False,
        settled: bool = False,
    ) -> None:
        """Record a send's outcome. A retry's `settled`: True when Slack's answer says nothing
        was posted (the row's unconfirmed stamp is cleared), else the stamp stays."""
        if response is not None:
            channel, ts = response.get("channel"), response.get("ts")
            marked = self._write(
                lambda session: outbox.mark_sent(
                    session, message, slack_ts=ts, slack_channel=channel
                )
            )
            if marked:
                stats.sent += 1
            else:
                log.warning("outbox %s: lease lost before it was marked sent", message.id)
        elif dead is not None:
            log.warning("outbox %s (%s) dead: %s", message.id, message.dedupe_key, dead)
            self._write(lambda session: outbox.mark_dead(session, message, error=dead))
            stats.dead += 1
            stats.errors.append(dead)
        else:
            wait = delay if delay is not None else outbox.backoff_seconds(message.attempts)
            new = self._write(
                lambda session: outbox.mark_retry(
                    session,
                    message,
                    error=str(retry),
                    delay_seconds=wait,
                    counts_as_attempt=not free,
                    settled=settled,
                )
            )
            stats.errors.append(str(retry))
            if new == OutboxStatus.DEAD:
                stats.dead += 1
            else:
                stats.retried += 1

    def _hand_back(self, messages: list[ClaimedMessage], wait: float) -> None:
        """Give the rest of a rate-limited batch back, due when the wait is over."""
        if not messages:
            return

        def hand_back(session: Session) -> None:
            for message in messages:
                outbox.mark_retry(
                    session,
                    message,
                    error="held back: rate limited",
                    delay_seconds=wait,
                    counts_as_attempt=False,
                )

        self._write(hand_back)


def _undeliverable(message: ClaimedMessage) -> str | None:
    """Why a claimed message can never be sent (its dead-letter reason), or None."""
    if message.edits_missing:
        return EDIT_TARGET_MISSING
    if message.follows_failed is not None:
        return f"{FOLLOWED_UNDELIVERED} ({message.follows_failed})"
    if message.edits is None and message.follows is None and not message.channel:
        return NO_RECIPIENT
    return None


def _may_have_arrived(exc: BaseException) -> bool:
    """Whether a failed request may have reached Slack: yes, unless no connection was made."""
    reason = exc.reason if isinstance(exc, URLError) else exc
    return not isinstance(reason, ConnectionRefusedError | socket.gaierror)


def _retry_after(headers: dict[str, Any]) -> float:
    for name in ("Retry-After", "retry-after"):
        value = headers.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None:
            try:
                return max(0.0, float(value))
            except ValueError:
                break
    return 1.0


class _OutboxCollector:
    """Outbox rows per status, read from the database at scrape time."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def collect(self):  # type: ignore[no-untyped-def]
        gauge = GaugeMetricFamily(
            "salesops_outbox_messages", "Outbox rows by delivery status.", labels=["status"]
        )
        with self.deps.sessions() as session:
            for status, count in outbox.outbox_counts(session).items():
                gauge.add_metric([status], count)
        yield gauge

    def describe(self):  # type: ignore[no-untyped-def]
        return []


def register_metrics(metrics: Any, deps: Deps) -> None:
    """Expose the outbox counts on /metrics (called by bot.server.create_app)."""
    metrics.add_collector(_OutboxCollector(deps))
