"""pipeline_conversion ("pipeline efficiency"): of the amount open at period start, as of then,
the share won by period end, and the rest split into lost, slipped and shrunk; by hand.

Org time zone UTC; report period 2026-Q2 = [2026-04-01, 2026-07-01); now = 2026-08-01.
Open at 2026-04-01, with the amount as of then (stage history where it recorded one):
  Ann  d1 10,000  won 05-10 for 10,000                   won 10,000
  Ann  d2  8,000  won 06-01 for 6,000                    won 6,000, shrunk 2,000
  Ann  d3  5,000  lost 05-20 (no history)                lost 5,000
  Bob  d4  4,000  3,000 on 06-20, still open at 07-01    slipped 3,000, shrunk 1,000
                  (won 07-15 for 3,500: after the period)
  Bob  d5  7,000  expected 05-31, pushed to 09-30        slipped 7,000
  Bob  d8  none   lost 05-05                             adds nothing
  Cat  d7  2,000  won 04-20 for 2,500 (won for more)     won 2,000 (its start amount)
Not in it: d6 (Ann, created 05-01, won 06-10 for 20,000), d0 (Ann, won 03-20).
Org: start 36,000; won 18,000 (50%), lost 5,000, slipped 10,000, shrunk 3,000.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bot.cli.main import app
from commands.base import run_command
from commands.digest import digest_message
from commands.kit.reply import CommandContext
from commands.kit.text import reply_as_text
from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import Deal, Outcome, Rep, Role, Stage, Team
from salesops_core.digest.content import build_team_digest
from salesops_core.digest.export import digest_json
from salesops_core.kpi.engine import compute_report, resolve_scope
from salesops_core.kpi.explain import explain
from salesops_core.org.access import viewer_for_rep
from salesops_core.periods import parse_period
from tests.support.kpi_fixture import add_deal, at

ORG = OrgConfig(timezone="UTC")
NOW = datetime(2026, 8, 1, tzinfo=UTC)
Q2 = parse_period("2026-Q2", tz=ORG.tz)
PARTS = ("pipeline_conversion_lost", "pipeline_conversion_slipped", "pipeline_conversion_shrunk")


def build(session: Session) -> dict[str, Rep]:
    """Insert the org of the module docstring; returns the reps by first name."""
    session.add_all(
        [
            Stage(name="Prospect", sort_order=1, probability=0.1),
            Stage(name="Proposal", sort_order=2, probability=0.5),
            Stage(name="Won", sort_order=3, probability=1.0, outcome=Outcome.WON),
            Stage(name="Lost", sort_order=4, probability=0.0, outcome=Outcome.LOST),
        ]
    )
    east, west = Team(name="East", region="NA"), Team(name="West", region="EU")
    admin = Rep(name="Ada Admin", email="ada@example.com", role=Role.ADMIN)
    ann = Rep(name="Ann Archer", email="ann@example.com", team=east)
    bob = Rep(name="Bob Baker", email="bob@example.com", team=east)
    cat = Rep(name="Cat Cole", email="cat@example.com", team=west)
    session.add_all([east, west, admin, ann, bob, cat])
    session.flush()

    deal = partial(add_deal, session)

    won, lost = "Won", "Lost"
    deal("d0", ann, 9000, won, at(2026, 1, 10), closed_at=at(2026, 3, 20))
    deal(
        "d1", ann, 10000, won, at(2026, 2, 1), closed_at=at(2026, 5, 10),
        history=((at(2026, 2, 1), "Prospect", 10000), (at(2026, 5, 10), won, 10000)),
    )  # fmt: skip
    deal(
        "d2", ann, 6000, won, at(2026, 2, 15), closed_at=at(2026, 6, 1),
        history=((at(2026, 2, 15), "Prospect", 8000), (at(2026, 6, 1), won, 6000)),
    )  # fmt: skip
    deal("d3", ann, 5000, lost, at(2026, 3, 1), closed_at=at(2026, 5, 20))
    deal(
        "d4", bob, 3500, won, at(2026, 3, 10), closed_at=at(2026, 7, 15),
        history=(
            (at(2026, 3, 10), "Prospect", 4000),
            (at(2026, 6, 20), "Proposal", 3000),
            (at(2026, 7, 15), won, 3500),
        ),
    )  # fmt: skip
    deal("d5", bob, 7000, "Proposal", at(2026, 1, 20), expected_close=at(2026, 9, 30))
    deal("d6", ann, 20000, won, at(2026, 5, 1), closed_at=at(2026, 6, 10))
    deal(
        "d7", cat, 2500, won, at(2026, 3, 15), closed_at=at(2026, 4, 20),
        history=((at(2026, 3, 15), "Prospect", 2000), (at(2026, 4, 20), won, 2500)),
    )  # fmt: skip
    deal("d8", bob, None, lost, at(2026, 3, 1), closed_at=at(2026, 5, 5))
    session.commit()
    return {"ada": admin, "ann": ann, "bob": bob, "cat": cat}


@pytest.fixture
def reps(session: Session) -> dict[str, Rep]:
    return build(session)


def kpis(session: Session, period=Q2, now: datetime = NOW, **scope: str):
    scoped = resolve_scope(session, **scope)
    return compute_report(session, scoped, period, ORG, (), now=now, funnel=False).kpis


def test_open_at_start_splits_into_won_lost_slipped_and_shrunk(
    session: Session, reps: dict
) -> None:
    k = kpis(session)
    assert k["pipeline_conversion_base"] == pytest.approx(36000)
    assert k["pipeline_conversion"] == pytest.approx(18000 / 36000)
    assert k["pipeline_conversion_lost"] == pytest.approx(5000 / 36000)
    assert k["pipeline_conversion_slipped"] == pytest.approx(10000 / 36000)
    assert k["pipeline_conversion_shrunk"] == pytest.approx(3000 / 36000)
    assert k["pipeline_conversion"] + sum(k[p] for p in PARTS) == pytest.approx(1)


def test_each_rep_has_their_own_split(session: Session, reps: dict) -> None:
    ann = kpis(session, rep="ann@example.com")
    assert ann["pipeline_conversion_base"] == pytest.approx(23000)  # d1 10,000 + d2 8,000 + d3
    assert ann["pipeline_conversion"] == pytest.approx(16000 / 23000)
    assert ann["pipeline_conversion_shrunk"] == pytest.approx(2000 / 23000)
    bob = kpis(session, rep="bob@example.com")
    assert bob["pipeline_conversion"] == 0.0  # nothing won: 0%, not undefined
    assert bob["pipeline_conversion_slipped"] == pytest.approx(10000 / 11000)
    assert bob["pipeline_conversion_shrunk"] == pytest.approx(1000 / 11000)
    cat = kpis(session, rep="cat@example.com")
    assert cat["pipeline_conversion"] == pytest.approx(1.0)  # won for more counts its start
    assert cat["pipeline_conversion_shrunk"] == 0.0


def test_a_team_is_the_sum_of_its_reps(session: Session, reps: dict) -> None:
    team = kpis(session, team="East")
    parts = [kpis(session, rep=email) for email in ("ann@example.com", "bob@example.com")]
    base = sum(p["pipeline_conversion_base"] for p in parts)
    assert team["pipeline_conversion_base"] == pytest.approx(base) == pytest.approx(34000)
    for key in ("pipeline_conversion", *PARTS):
        pooled = sum(p[key] * p["pipeline_conversion_base"] for p in parts) / base
        assert team[key] == pytest.approx(pooled), key


def test_nothing_open_at_start_is_undefined_not_zero(session: Session, reps: dict) -> None:
    q1 = kpis(session, parse_period("2026-Q1", tz=ORG.tz))  # every deal created in Q1
    assert q1["pipeline_conversion_base"] == 0
    assert all(q1[key] is None for key in ("pipeline_conversion", *PARTS))
    later = kpis(session, parse_period("2026-Q4", tz=ORG.tz))  # has not started
    assert later["pipeline_conversion"] is None


def test_all_lost_is_zero_efficiency(session: Session) -> None:
    team = Team(name="Solo", region="NA")
    rep = Rep(name="Sol Lo", email="sol@example.com", team=team)
    session.add_all([team, rep])
    session.flush()
    for n, amount in enumerate((1000, 3000)):
        session.add(
            Deal(
                external_id=f"l{n}", owner_id=rep.id, amount=amount, stage="Lost",
                outcome=Outcome.LOST, created_at=at(2026, 3, 1), closed_at=at(2026, 5, 1),
            )
        )  # fmt: skip
    session.commit()
    k = kpis(session)
    assert k["pipeline_conversion"] == 0.0 and k["pipeline_conversion_lost"] == 1.0
    assert k["pipeline_conversion_slipped"] == 0.0 and k["pipeline_conversion_shrunk"] == 0.0


def test_a_running_period_counts_won_so_far_and_still_open_as_of_now(
    session: Session, reps: dict
) -> None:
    # 2026-Q3 on 08-01: open at 07-01 were d4 (3,000 then; won 07-15 for 3,500) and d5 (7,000).
    k = kpis(session, parse_period("2026-Q3", tz=ORG.tz))
    assert k["pipeline_conversion_base"] == pytest.approx(10000)
    assert k["pipeline_conversion"] == pytest.approx(0.3)
    assert k["pipeline_conversion_slipped"] == pytest.approx(0.7)  # still open now
    assert k["pipeline_conversion_lost"] == 0.0 and k["pipeline_conversion_shrunk"] == 0.0


def test_explain_lists_each_deal_open_at_start_with_its_part(session: Session, reps: dict) -> None:
    scope = resolve_scope(session)
    result = explain(session, "pipeline_conversion", scope, Q2, ORG, (), now=NOW)
    assert result.value == pytest.approx(0.5)
    records = {r["id"]: r for r in result.records}
    assert set(records) == {"d1", "d2", "d3", "d4", "d5", "d7", "d8"}
    assert records["d2"]["reason"] == "won for less: $2,000 shrunk"
    assert (records["d2"]["start_amount"], records["d2"]["won"]) == (8000, 6000)
    assert records["d4"]["reason"] == "still open at period end: $1,000 shrunk"
    assert records["d4"]["slipped"] == 3000
    assert records["d7"]["reason"] == "won for more: counts its start amount"
    assert records["d8"]["status"] == "left out"
    assert result.counts == {"counted": 6, "left out": 1}
    assert any("created during the period" in choice for choice in result.choices)


def test_cli_kpi_json_has_the_key_and_its_parts(
    session: Session, reps: dict, database_url: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SALESOPS_CONFIG", str(tmp_path / "salesops.toml"))
    (tmp_path / "salesops.toml").write_text('[org]\ntimezone = "UTC"\n')
    args = ["kpi", "--team", "East", "--period", "2026-Q2", "--now", NOW.isoformat()]
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["kpis"]
    assert data["pipeline_conversion"] == pytest.approx(16000 / 34000)
    assert data["pipeline_conversion_base"] == 34000
    assert data["pipeline_conversion_slipped"] == pytest.approx(10000 / 34000)
    assert json.loads(result.stdout)["previous"]["pipeline_conversion"] is None  # Q1: none


def test_pipeline_command_shows_the_efficiency_and_its_split(session: Session, reps: dict) -> None:
    ctx = CommandContext(org=ORG, sla=(SlaPolicy(),), now=NOW, charts=False)
    reply = run_command(session, viewer_for_rep(reps["ada"]), "/pipeline", "2026-Q2 org", ctx)
    text = reply_as_text(reply)
    assert "Pipeline efficiency: 50% won of $36,000 open at the start" in text
    assert "13% lost · 27% slipped · 8.3% shrunk" in text
    running = run_command(session, viewer_for_rep(reps["ada"]), "/pipeline", "2026-Q3 org", ctx)
    assert "30% won so far of $10,000 open at the start" in reply_as_text(running)
    assert "70% still open" in reply_as_text(running)


def test_the_team_digest_carries_it_for_the_quarter_to_date(session: Session, reps: dict) -> None:
    east = session.scalars(select(Team).where(Team.name == "East")).one()
    digest = build_team_digest(session, east, Q2, ORG, (SlaPolicy(),), NOW)
    assert digest.quarter.label == "2026-Q2"  # the quarter the period ends in, closed by now
    assert digest.quarter_to_date["pipeline_conversion"] == pytest.approx(16000 / 34000)
    assert digest_json(digest)["quarter_to_date"]["kpis"]["pipeline_conversion_base"] == 34000
    fields = [
        field["text"]
        for block in digest_message(digest).blocks
        if block["type"] == "section" and block["text"]["text"].startswith("*Quarter to date*")
        for field in block["fields"]
    ]
    assert fields[-1] == (
        "*Pipeline efficiency*\n47% won of $34,000 open at the start\n"
        "_14% lost · 29% slipped · 8.8% shrunk_"
    )
