"""`salesops digest` through the real CLI against the test database (digest_fixture's org)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.db.models import Outbox
from tests.support.digest_fixture import build_digest_org, digest_cli

NOW = "2026-11-23T09:00:00+00:00"


@pytest.fixture
def cli(database_url: str, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run `salesops ...` in tmp_path against the fixture org; (exit code, stdout, error)."""
    build_digest_org(session)
    return digest_cli(database_url, tmp_path, monkeypatch)


def test_format_json_has_the_kpis_of_salesops_kpi_for_the_same_now(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("digest", "--team", "na east", "--now", NOW, "--format", "json")
    assert code == 0
    digest = json.loads(out)
    code, out, _ = cli(
        "kpi", "--team", "NA East", "--period", "last-week", "--now", NOW, "--format", "json"
    )
    assert code == 0
    report = json.loads(out)
    assert (digest["kpis"], digest["previous"]) == (report["kpis"], report["previous"])
    assert digest["team"] == "NA East"
    assert digest["period"]["label"] == "last-week (2026-W47)"
    assert [deal["external_id"] for deal in digest["stale_deals"]] == ["A3", "A4"]


def test_format_json_for_all_teams_is_a_list(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli(
        "digest", "--all", "--now", NOW, "--format", "json", "--period", "2026-11-16..2026-11-23"
    )
    assert code == 0
    assert [d["team"] for d in json.loads(out)] == ["NA East", "West"]


def test_preview_writes_the_post_message_payloads_and_the_chart(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, said = cli("digest", "--team", "NA East", "--now", NOW, "--preview", "out")
    assert code == 0
    assert said.startswith("1 message(s) written to out: digest.json, digest-na-east-")
    payloads = json.loads((tmp_path / "out" / "digest.json").read_text())
    # Freya has no Slack id: her name and email, looked up when it is sent
    assert [p["channel"] for p in payloads] == ["Freya Moreau <freya@example.com>"]
    assert payloads[0]["text"].startswith("NA East")
    assert payloads[0]["blocks"][0]["type"] == "header"
    pngs = list((tmp_path / "out").glob("*.png"))
    assert len(pngs) == 1 and pngs[0].read_bytes().startswith(b"\x89PNG")


def test_send_now_twice_enqueues_once_and_says_so(cli, sessions: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    first = cli("digest", "--team", "NA East", "--now", NOW, "--send-now")
    assert first == (0, "", "NA East: enqueued for Freya Moreau for last-week (2026-W47)\n")
    again = cli("digest", "--team", "NA East", "--now", NOW, "--send-now")
    assert again == (0, "", "NA East: already sent to Freya Moreau for last-week (2026-W47)\n")
    with sessions() as session:
        kinds = session.scalars(select(Outbox.kind).order_by(Outbox.id)).all()
    assert kinds == ["digest", "digest_chart"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--team", "Nowhere", "--format", "json"),
            "no team named 'Nowhere'. Known teams: NA East, West.",
        ),
        (("--team", "West", "--preview", "out"), "West: no manager"),
        (("--team", "West", "--send-now"), "West: no manager"),
        (("--format", "json"), "give --team T or --all"),
        (("--all", "--format", "json", "--send-now"), "give one of --format json"),
        (("--all", "--format", "csv"), "unknown format 'csv'"),
        (("--all", "--format", "json", "--period", "soon"), "unknown period 'soon'"),
    ],
)
def test_errors_are_one_line(cli, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    code, _, error = cli("digest", "--now", NOW, *args)
    assert code != 0
    assert error.startswith(message) and "\n" not in error
