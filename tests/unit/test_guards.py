"""Which client addresses count as this host for /metrics and the OpenAPI pages."""

from __future__ import annotations

import pytest

from bot.guards import is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_loopback_addresses_are_this_host(host: str) -> None:
    assert is_loopback({"client": (host, 5000)})


@pytest.mark.parametrize(
    "host", ["10.0.0.1", "203.0.113.9", "::ffff:10.0.0.1", "fe80::1", "testclient", ""]
)
def test_other_addresses_and_names_are_not(host: str) -> None:
    assert not is_loopback({"client": (host, 5000)})


def test_a_request_without_a_client_address_is_not_this_host() -> None:
    assert not is_loopback({"client": None})
