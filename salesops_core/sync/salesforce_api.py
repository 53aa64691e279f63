"""One connection to a Salesforce org: simple-salesforce over a counted requests Session,
with back-off on 429 / 5xx / REQUEST_LIMIT_EXCEEDED and a token refresh on 401."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

from salesops_core.sync.source import SyncError

Page = dict[str, Any]  # one REST query answer: records, done, nextRecordsUrl, totalSize
_RETRIES = 5
TIMEOUT = (10, 120)  # seconds to connect, to wait for an answer
_TOKEN_HINT = "set SALESFORCE_ACCESS_TOKEN, or SALESFORCE_CLIENT_ID + SALESFORCE_CLIENT_SECRET"


@dataclass(frozen=True)
class SalesforceCredentials:
    """Where the org is and how to authenticate (an access token, or an OAuth client)."""

    instance_url: str
    access_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None  # with client_id(+secret): the refresh-token flow
    api_version: str = "62.0"
    ca_bundle: str | None = None  # a PEM path; None: requests' default (REQUESTS_CA_BUNDLE)


def _error_code(exc: SalesforceError) -> str:
    content = exc.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode", ""))
    return ""


class _CountingAdapter(HTTPAdapter):
    """Reports every response to the Api, and pins the CA bundle (a Session's `verify` loses
    to REQUESTS_CA_BUNDLE in the environment)."""

    def __init__(self, api: SalesforceApi, ca_bundle: str | None) -> None:
        super().__init__()
        self._api = api
        self._ca_bundle = ca_bundle

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        verify = self._ca_bundle or verify
        timeout = timeout or TIMEOUT  # simple-salesforce sets none: a hung org would hang us
        response = super().send(request, stream, timeout, verify, cert, proxies)
        self._api.saw(response)
        return response


def _more(next_url: str) -> Callable[[Salesforce], Page]:
    def request(sf: Salesforce) -> Page:
        return sf.query_more(next_url, identifier_is_url=True)

    return request


class SalesforceApi:
    """Runs SOQL page by page; every HTTP request is counted in `requests`."""

    def __init__(
        self, credentials: SalesforceCredentials, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.credentials = credentials
        self.instance_url = credentials.instance_url.rstrip("/")
        self.requests = 0
        self._sleep = sleep
        self._retry_after: str | None = None
        self._session = requests.Session()
        self._session.mount("https://", _CountingAdapter(self, credentials.ca_bundle))
        self._token = credentials.access_token
        self._client: Salesforce | None = None

    def saw(self, response: requests.Response) -> None:
        """Count a response and keep its Retry-After for the next back-off."""
        self.requests += 1
        self._retry_after = response.headers.get("Retry-After")

    @property
    def client(self) -> Salesforce:
        """The simple-salesforce client (authenticating first when there is no token)."""
        if self._client is None:
            if self._token is None:
                self._refresh()
            self._client = Salesforce(
                instance_url=self.instance_url,
                session_id=self._token,
                version=self.credentials.api_version,
                session=self._session,
            )
        return self._client

    def _refresh(self) -> None:
        creds = self.credentials
        if not creds.client_id:
            raise SyncError(f"Salesforce rejected the access token (expired?): {_TOKEN_HINT}")
        data = {"client_id": creds.client_id}
        if creds.client_secret:
            data["client_secret"] = creds.client_secret
        if creds.refresh_token:
            data |= {"grant_type": "refresh_token", "refresh_token": creds.refresh_token}
        else:
            data["grant_type"] = "client_credentials"
        url = f"{self.instance_url}/services/oauth2/token"
        response = self._session.post(url, data=data, timeout=60)
        if response.status_code != 200:
            raise SyncError(
                f"Salesforce refused the OAuth client at {url} (HTTP {response.status_code}): "
                f"check SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET"
            )
        body = response.json()
        self._token = body["access_token"]
        self.instance_url = body.get("instance_url", self.instance_url).rstrip("/")
        self._client = None

    def call(self, what: str, request: Callable[[Salesforce], Any]) -> Any:
        """`request(client)` with back-off on limits and outages and one token refresh."""
        refreshed = False
        for attempt in range(_RETRIES + 1):
            try:
                return request(self.client)
            except SalesforceExpiredSession as exc:
                if refreshed or not self.credentials.client_id:
                    raise SyncError(
                        f"Salesforce rejected the access token during {what}: {_TOKEN_HINT}"
                    ) from exc
                refreshed = True
                self._token = None
                self._client = None
            except requests.exceptions.SSLError:
                raise SyncError(
                    f"the certificate of {self.instance_url} is not trusted; for a private CA "
                    "set REQUESTS_CA_BUNDLE to its CA bundle"
                ) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == _RETRIES:
                    raise SyncError(
                        f"cannot reach Salesforce at {self.instance_url} ({type(exc).__name__}); "
                        "check SALESFORCE_INSTANCE_URL and the network"
                    ) from None
                self._retry_after = None
                self._sleep(self._wait(attempt))
            except SalesforceError as exc:
                limit = exc.status == 403 and _error_code(exc) == "REQUEST_LIMIT_EXCEEDED"
                if not (limit or exc.status == 429 or exc.status >= 500):
                    raise SyncError(
                        f"Salesforce refused {what} (HTTP {exc.status} {_error_code(exc)})"
                    ) from exc
                if attempt == _RETRIES:
                    if limit:
                        raise SyncError(
                            "the Salesforce org's daily API request limit is reached "
                            "(REQUEST_LIMIT_EXCEEDED); the next run resumes where this one stopped"
                        ) from exc
                    raise SyncError(
                        f"Salesforce kept failing {what} (HTTP {exc.status}) after "
                        f"{_RETRIES} retries; the next run resumes where this one stopped"
                    ) from exc
                self._sleep(self._wait(attempt))
        raise AssertionError("unreachable")

    def _wait(self, attempt: int) -> float:
        if self._retry_after and self._retry_after.strip().isdigit():
            return float(self._retry_after)
        return float(2**attempt)

    def pages(self, soql: str, *, include_deleted: bool = False) -> Iterator[Page]:
        """The query's answer page by page, following `nextRecordsUrl`."""
        page: Page = self.call(
            "a query", lambda sf: sf.query(soql, include_deleted=include_deleted)
        )
        while True:
            yield page
            if page["done"]:
                return
            page = self.call("a query", _more(page["nextRecordsUrl"]))

    def records(self, soql: str) -> Iterator[dict[str, Any]]:
        """Every record the query returns."""
        for page in self.pages(soql):
            yield from page["records"]
