"""A region's and the org's digest: `salesops digest --region G | --org` and `/team digest org`.

The org of tests/support/digest_fixture.py (NA East in region NA, West in EU), plus: team "NA
Central" (region NA) with Dan (won 8,000 in W47, Q4 quota 20,000); Tom, on no team, who won
5,000 in W47; an unowned lead of W47; and two admins on no team, Ada and Zed. Now is Monday
2026-11-23 09:00 UTC, so last-week is 2026-W47.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commands.base import run_command
from commands.digest import digest_message
from commands.kit.reply import CommandContext
from salesops_core.db.models import Deal, Lead, Outbox, Outcome, Quota, Rep, Role, Team
from salesops_core.digest.content import build_team_digest
from salesops_core.digest.facts import DigestNotice
from salesops_core.digest.regions import build_scope_digest
from salesops_core.errors import NotAllowed
from salesops_core.leads.deadlines import fill_sla_deadlines
from salesops_core.org.access import viewer_for_rep
from salesops_core.org.scopes import ORG_SCOPE, region_scope
from salesops_core.outbox import read_notice
from salesops_core.periods import parse_period
from tests.support.digest_fixture import (
    NOW,
    ORG,
    Q4,
    SLA,
    build_digest_org,
    digest_cli,
    t,
)

NOW_ISO = NOW.isoformat()
LAST_WEEK = "last-week (2026-W47)"


def build_wider_org(session: Session) -> dict[str, int]:
    """The digest fixture's org and the additions of the module docstring; ids by name."""
    ids = build_digest_org(session)
    central = Team(name="NA Central", region="NA")
    dan = Rep(name="Dan Diaz", email="dan@example.com", team=central)
    tom = Rep(name="Tom Loose", email="tom@example.com")
    ada = Rep(name="Ada Admin", email="ada@example.com", role=Role.ADMIN, slack_user_id="U0ADA")
    zed = Rep(name="Zed Admin", email="zed@example.com", role=Role.ADMIN)
    session.add_all([central, dan, tom, ada, zed])
    session.flush()
    session.add_all(
        [
            Quota(rep_id=dan.id, period_start=Q4[0], period_end=Q4[1], amount=20_000),
            Deal(external_id="D1", owner_id=dan.id, amount=8_000, stage="Won",
                 outcome=Outcome.WON, created_at=t(11, 2), closed_at=t(11, 18)),
            Deal(external_id="T1", owner_id=tom.id, amount=5_000, stage="Won",
                 outcome=Outcome.WON, created_at=t(11, 2), closed_at=t(11, 19)),
            Lead(external_id="U1", owner_id=None, source="web", created_at=t(11, 20)),
        ]
    )  # fmt: skip
    session.flush()
    fill_sla_deadlines(session, ORG, SLA)
    session.commit()
    ids.update(central=central.id, dan=dan.id, tom=tom.id, ada=ada.id, zed=zed.id)
    return ids


@pytest.fixture
def ids(session: Session) -> dict[str, int]:
    return build_wider_org(session)


@pytest.fixture
def cli(database_url: str, ids: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run `salesops ...` in tmp_path against the org; (exit code, stdout, error). The config
    gets `extra` lines appended (`cli.config(...)`)."""
    run = digest_cli(database_url, tmp_path, monkeypatch)
    config = tmp_path / "salesops.toml"

    def json_of(*args: str) -> dict:  # type: ignore[type-arg]
        code, out, error = run(*args)
        assert code == 0, error
        return json.loads(out)  # type: ignore[no-any-return]

    run.json = json_of  # type: ignore[attr-defined]
    run.config = lambda extra: config.write_text(config.read_text() + extra)  # type: ignore[attr-defined]
    return run


@pytest.mark.parametrize("scope_args", [("--region", "na"), ()])
def test_kpis_equal_salesops_kpi_for_the_region_and_the_org(cli, scope_args) -> None:  # type: ignore[no-untyped-def]
    digest_args = scope_args or ("--org",)
    digest = cli.json("digest", *digest_args, "--now", NOW_ISO, "--format", "json")
    kpi = ("kpi", *scope_args, "--now", NOW_ISO, "--format", "json")
    week = cli.json(*kpi, "--period", "last-week")
    quarter = cli.json(*kpi, "--period", "2026-Q4")
    assert (digest["kpis"], digest["previous"]) == (week["kpis"], week["previous"])
    assert digest["quarter_to_date"]["kpis"] == quarter["kpis"]
    assert digest["period"]["label"] == LAST_WEEK


def test_the_org_counts_what_no_team_holds(cli) -> None:  # type: ignore[no-untyped-def]
    digest = cli.json("digest", "--org", "--now", NOW_ISO, "--format", "json")
    # A1 30,000 + C1 7,000 + D1 8,000 on teams, and Tom's T1 5,000 on none
    assert digest["kpis"]["won_amount"] == 50_000
    assert digest["sla_breaches"]["leads"] == 5  # L1-L4 and the unowned U1
    assert digest["team"] == "Org" and digest["scope"] == "org"
    assert [line["name"] for line in digest["leaderboard"]] == ["NA East", "NA Central", "West"]


def test_a_regions_leaderboard_is_its_teams_with_their_own_numbers(
    session: Session, ids: dict[str, int]
) -> None:
    period = parse_period("last-week", tz=ORG.tz, now=NOW)
    region = build_scope_digest(session, region_scope("NA"), period, ORG, SLA, NOW)
    east = build_team_digest(session, session.get_one(Team, ids["east"]), period, ORG, SLA, NOW)
    assert (region.scope, region.team, region.region, region.team_id) == (
        "region",
        "NA",
        "NA",
        None,
    )
    lines = {line.name: line for line in region.leaderboard}
    assert list(lines) == ["NA East", "NA Central"]
    assert lines["NA East"].won_amount == east.kpis["won_amount"] == 30_000
    assert lines["NA East"].quota_attainment == east.quarter_to_date["quota_attainment"]
    # Dan: 8,000 of 20,000 with 58% of the quarter gone is behind pace by 20,000 x 0.58 - 8,000
    central = lines["NA Central"]
    assert central.behind_pace and central.pace_gap == pytest.approx(
        20_000 * region.chart.expected_attainment - 8_000
    )
    # NA East: 80,000 of 150,000 is 7,000 short of pace, more than Dan's 3,600
    assert [line.name for line in region.behind_pace] == ["NA East", "NA Central"]
    assert [deal.external_id for deal in region.stale_deals] == ["A3", "A4"]
    assert [name for name, _ in region.chart.attainment] == ["NA East", "NA Central"]
    assert region.chart.line_unit == "team"


def test_org_preview_writes_one_message_per_admin_and_the_chart(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, said = cli("digest", "--org", "--now", NOW_ISO, "--preview", "out")
    assert code == 0, said
    assert said.startswith("2 message(s) written to out: digest.json, digest-org-")
    payloads = json.loads((tmp_path / "out" / "digest.json").read_text())
    assert [p["channel"] for p in payloads] == ["U0ADA", "Zed Admin <zed@example.com>"]
    assert payloads[0]["text"].startswith("Org · week of Nov 16")
    leaderboard = json.dumps(payloads[0]["blocks"])
    assert " # Team " in leaderboard and "NA Central" in leaderboard
    assert [png.name for png in (tmp_path / "out").glob("*.png")] == [
        "digest-org-last-week-2026-w47.png"
    ]


def test_a_regions_head_from_the_config_gets_its_digest(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli.config('\n[digest]\nregion_recipients = { "na" = "FREYA@example.com" }\n')
    code, _, said = cli("digest", "--region", "NA", "--now", NOW_ISO, "--preview", "out")
    assert code == 0, said
    payloads = json.loads((tmp_path / "out" / "digest.json").read_text())
    assert [p["channel"] for p in payloads] == ["Freya Moreau <freya@example.com>"]
    # EU names no head: its digest goes to the admins
    code, _, said = cli("digest", "--region", "EU", "--now", NOW_ISO, "--preview", "eu")
    assert code == 0 and said.startswith("2 message(s)")


def test_send_now_to_the_admins_once(  # type: ignore[no-untyped-def]
    cli, ids: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    first = cli("digest", "--org", "--now", NOW_ISO, "--send-now")
    assert first == (
        0,
        "",
        f"Org: enqueued for Ada Admin for {LAST_WEEK}\n"
        f"Org: enqueued for Zed Admin for {LAST_WEEK}\n",
    )
    again = cli(
        "digest", "--org", "--period", "2026-11-16..2026-11-23", "--now", NOW_ISO, "--send-now"
    )
    assert again[0] == 0
    assert again[2].splitlines() == [
        "Org: already sent to Ada Admin for 2026-11-16..2026-11-23",
        "Org: already sent to Zed Admin for 2026-11-16..2026-11-23",
    ]
    assert cli("digest", "--region", "NA", "--now", NOW_ISO, "--send-now")[2].count("enqueued") == 2
    with sessions() as session:
        keys = sorted(session.scalars(select(Outbox.dedupe_key)))
        row = session.scalars(
            select(Outbox)
            .where(Outbox.dedupe_key.startswith("digest:region:NA:"))
            .order_by(Outbox.id)
        ).first()
        assert row is not None
        stored = read_notice(DigestNotice, row.payload).digest
    assert (stored.scope, stored.team, stored.team_id) == ("region", "NA", None)
    assert stored.recipient is not None and stored.recipient.name == "Ada Admin"
    assert digest_message(stored).text.startswith("NA · week of Nov 16")
    dates = "2026-11-16..2026-11-23"
    assert keys == sorted(
        f"digest:{subject}:rep:{ids[who]}:{dates}{chart}"
        for subject in ("org", "region:NA")
        for who in ("ada", "zed")
        for chart in ("", ":chart")
    )


def test_with_no_admin_and_no_head_nobody_gets_it(cli, session: Session) -> None:  # type: ignore[no-untyped-def]
    for rep in session.scalars(select(Rep).where(Rep.role == Role.ADMIN)):
        rep.role = Role.REP
    session.commit()
    code, _, error = cli("digest", "--org", "--now", NOW_ISO, "--send-now")
    assert code != 0 and error.startswith("Org: no admin")


def _slack(session: Session, rep_id: int, text: str) -> object:
    ctx = CommandContext(org=ORG, sla=SLA, now=NOW, charts=False)
    viewer = viewer_for_rep(session.get_one(Rep, rep_id))
    return run_command(session, viewer, "/team", text, ctx)


def test_team_digest_org_for_an_admin_and_refused_for_a_manager(
    session: Session, ids: dict[str, int]
) -> None:
    reply = _slack(session, ids["ada"], "digest org")
    period = parse_period("last-week", tz=ORG.tz, now=NOW)
    expected = build_scope_digest(session, ORG_SCOPE, period, ORG, SLA, NOW)
    blocks = reply.blocks_json()  # type: ignore[attr-defined]
    assert blocks[0]["text"]["text"] == "Org · week of Nov 16"
    assert not reply.in_channel  # type: ignore[attr-defined]
    assert f"{expected.kpis['won_amount']:,.0f}" in json.dumps(blocks)
    region = _slack(session, ids["ada"], "digest NA").blocks_json()  # type: ignore[attr-defined]
    assert region[0]["text"]["text"] == "NA · week of Nov 16"
    for text in ("digest org", "digest NA"):
        with pytest.raises(NotAllowed, match="for sales-ops admins only"):
            _slack(session, ids["freya"], text)
