"""The HTTP side of the HubSpot source: hubspot-api-client clients with one token, retries
through urllib3's Retry (429 and 5xx, honouring Retry-After, sleeping through an injected
callable), the OAuth refresh on 401, a count of every request, and errors as SyncError."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import hubspot  # type: ignore[import-untyped]
import hubspot.crm.associations.v4 as associations_v4  # type: ignore[import-untyped]
import hubspot.crm.objects as crm_objects  # type: ignore[import-untyped]
import hubspot.crm.owners as crm_owners  # type: ignore[import-untyped]
import hubspot.crm.pipelines as crm_pipelines  # type: ignore[import-untyped]
import hubspot.oauth as oauth  # type: ignore[import-untyped]
import urllib3
from urllib3.util.retry import Retry

from salesops_core.sync.source import SyncError

RETRIES = 5
_API_ERRORS = (
    crm_objects.ApiException,
    crm_owners.ApiException,
    crm_pipelines.ApiException,
    associations_v4.ApiException,
    oauth.ApiException,
)


@dataclass(frozen=True)
class HubspotCredentials:
    """How to reach one portal: a token, or an OAuth app's refresh flow, and its CA bundle."""

    access_token: str | None = None  # a private-app token (or an OAuth access token)
    api_url: str = "https://api.hubapi.com"
    client_id: str | None = None  # with client_secret + refresh_token: the OAuth refresh flow
    client_secret: str | None = None
    refresh_token: str | None = None
    ca_bundle: str | None = None  # PEM path, passed as the client's ssl_ca_cert

    @property
    def can_refresh(self) -> bool:
        return bool(self.client_id and self.client_secret and self.refresh_token)


class CountingRetry(Retry):
    """Retry that waits through `on_retry(seconds)` (which counts the retried request)."""

    on_retry: Callable[[float], None] = staticmethod(lambda _seconds: None)

    def new(self, **kw: Any) -> CountingRetry:
        retry = super().new(**kw)
        retry.on_retry = self.on_retry
        return retry

    def sleep(self, response: Any = None) -> None:
        wait = self.get_retry_after(response) if response is not None else None
        if wait is None:  # exponential: factor, 2 x factor, 4 x factor ...
            wait = min(self.backoff_factor * 2 ** max(len(self.history) - 1, 0), self.backoff_max)
        self.on_retry(wait)


class HubspotApi:
    """The generated API clients of one portal, each call counted and its failure explained."""

    def __init__(self, credentials: HubspotCredentials, sleep: Callable[[float], None]) -> None:
        self.credentials = credentials
        self.requests = 0
        self._sleep = sleep
        self._token = credentials.access_token
        self._refresh_token = credentials.refresh_token
        self._clients: dict[str, Any] = {}

    def _on_retry(self, seconds: float) -> None:
        self.requests += 1
        self._sleep(seconds)

    def _hub(self) -> hubspot.HubSpot:
        retry = CountingRetry(
            total=RETRIES,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=None,  # search and batch reads are POSTs that read
            backoff_factor=1.0,
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        retry.on_retry = self._on_retry
        return hubspot.HubSpot(
            access_token=self._token,
            retry=retry,
            host=self.credentials.api_url,
            ssl_ca_cert=self.credentials.ca_bundle,
        )

    def client(self, name: str) -> Any:
        """One generated API (owners, pipelines, search, batch, basic, associations, tokens)."""
        if name not in self._clients:
            crm = self._hub().crm
            self._clients[name] = {
                "owners": lambda: crm.owners.owners_api,
                "pipelines": lambda: crm.pipelines.pipelines_api,
                "search": lambda: crm.objects.search_api,
                "batch": lambda: crm.objects.batch_api,
                "basic": lambda: crm.objects.basic_api,
                "associations": lambda: crm.associations.v4.batch_api,
                "tokens": lambda: self._hub().oauth.tokens_api,
            }[name]()
        return self._clients[name]

    def call(self, what: str, api: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """`client(api).method(*args, **kwargs)` (`what` names it for messages), refreshing an
        expired OAuth token once."""
        if self._token is None:
            self._refresh()
        for attempt in (1, 2):
            self.requests += 1
            try:
                return getattr(self.client(api), method)(*args, **kwargs)
            except _API_ERRORS as exc:
                if exc.status == 401 and attempt == 1 and self.credentials.can_refresh:
                    self._refresh()
                    continue
                raise self._error(what, exc) from None
            except urllib3.exceptions.HTTPError as exc:
                raise self._unreachable(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _refresh(self) -> None:
        """Trade the refresh token for a new access token (POST /oauth/v1/token)."""
        c = self.credentials
        if not c.can_refresh:
            raise SyncError(
                "HubSpot needs an access token: set HUBSPOT_ACCESS_TOKEN to a private-app "
                "token (or configure the OAuth client id, secret and refresh token)"
            )
        self.requests += 1
        try:
            answer = self.client("tokens").create(
                grant_type="refresh_token",
                client_id=c.client_id,
                client_secret=c.client_secret,
                refresh_token=self._refresh_token,
            )
        except _API_ERRORS as exc:
            detail = self._scrub(_body_message(exc))
            raise SyncError(
                f"HubSpot refused the OAuth refresh ({exc.status}: {detail}); check the "
                "client id, client secret and refresh token"
            ) from None
        except urllib3.exceptions.HTTPError as exc:
            raise self._unreachable(exc) from None
        self._token = answer.access_token
        self._refresh_token = answer.refresh_token or self._refresh_token
        self._clients.clear()  # rebuilt with the new token

    def _error(self, what: str, exc: Any) -> SyncError:
        status = exc.status
        detail = self._scrub(_body_message(exc))
        if status == 0:
            return SyncError(
                f"cannot reach HubSpot at {self.credentials.api_url} ({detail}); a private CA "
                "needs SSL_CERT_FILE or REQUESTS_CA_BUNDLE"
            )
        if status == 401:
            return SyncError(
                f"HubSpot refused the access token ({detail}): set HUBSPOT_ACCESS_TOKEN to a "
                "valid private-app token with the CRM read scopes"
            )
        if status == 403:
            return SyncError(f"HubSpot denied {what} ({detail}): the token lacks a CRM scope")
        if status == 429 or status >= 500:
            return SyncError(
                f"HubSpot kept answering {status} to {what} after {RETRIES} retries ({detail}); "
                "the next sync resumes from here"
            )
        return SyncError(f"HubSpot answered {status} to {what}: {detail}")

    def _unreachable(self, exc: Exception) -> SyncError:
        return SyncError(
            f"cannot reach HubSpot at {self.credentials.api_url}: {type(exc).__name__}"
        )

    def _scrub(self, text: str) -> str:
        """The text without any secret in it."""
        c = self.credentials
        for secret in (self._token, self._refresh_token, c.access_token, c.client_secret):
            if secret:
                text = text.replace(secret, "***")
        return text


def _body_message(exc: Any) -> str:
    """HubSpot's error body: `{"status":"error","message","correlationId","category"}`."""
    try:
        body = json.loads(exc.body or b"{}")
    except (TypeError, ValueError):
        return str(exc.reason or "no details")
    if not isinstance(body, dict):
        return str(exc.reason or "no details")
    parts = [str(body.get("message") or exc.reason or "no details")]
    for key in ("category", "policyName", "correlationId"):
        if body.get(key):
            parts.append(f"{key} {body[key]}")
    return "; ".join(parts)
