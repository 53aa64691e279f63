"""A manager's own nudges that the daily budget held back are folded into their next digest:
in the digest's facts, in the row the manager receives, and never in a team channel's copy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.deps import Deps
from bot.jobs.digest import send_now
from bot.settings import Settings
from salesops_core.config import DigestConfig, NudgeConfig, NudgeRule, OrgConfig
from salesops_core.db.models import Deal, Team
from salesops_core.digest.content import build_digests
from salesops_core.digest.facts import DigestNotice
from salesops_core.nudges import log
from salesops_core.nudges.facts import Nudge
from salesops_core.outbox import NoticeKind, read_notice
from salesops_core.periods import Period, parse_period
from tests.support.nudge_org import NudgeOrg, make_nudge_org, outbox_rows

NOW = datetime(2026, 11, 30, 14, tzinfo=UTC)  # Monday 09:00 in New York: Mia's working time
ORG = OrgConfig(timezone="America/New_York")
# Mia hears of her five biggest quiet deals, at most three a day.
NUDGES = NudgeConfig(rules=[NudgeRule.STALE_DEAL], stale_deals_per_person=5, daily_budget=3)


def _mias_quiet_deals(session: Session, org: NudgeOrg) -> None:
    quiet_since = NOW - timedelta(days=40)
    session.add_all(
        Deal(external_id=f"MIA-{k}", name=f"Mia deal {k}", owner_id=org.mia, amount=k * 1000,
             stage="Proposal", created_at=quiet_since)
        for k in range(1, 6)
    )  # fmt: skip
    session.flush()


def _last_week() -> Period:
    return parse_period("last-week", tz=ORG.tz, now=NOW)


def _facts(nudges: list[Nudge]) -> list[str]:
    return [n.fact.split(" (")[0] for n in nudges]


def test_the_managers_budget_overflow_is_in_their_digest_smallest_deals_last(
    session: Session,
) -> None:
    org = make_nudge_org(session, NOW)
    _mias_quiet_deals(session, org)
    digests = {d.team: d for d in build_digests(session, _last_week(), ORG, [], NOW, nudges=NUDGES)}
    assert _facts(digests["East"].held_nudges) == ["Mia deal 2", "Mia deal 1"]
    assert {n.rep_id for n in digests["East"].held_nudges} == {org.mia}
    assert digests["Berlin"].held_nudges == []  # Max owns no deal; Kai's is Kai's, not his


def test_nudges_already_sent_today_leave_more_for_the_digest(session: Session) -> None:
    org = make_nudge_org(session, NOW)
    _mias_quiet_deals(session, org)
    earlier = NOW - timedelta(hours=1)
    for other in ("deal:OTHER-1", "deal:OTHER-2"):  # two nudges already went out today
        log.record_send(session, org.mia, NudgeRule.STALE_DEAL, other, NOW.date(), earlier)
    [east] = build_digests(session, _last_week(), ORG, [], NOW, teams=_team(session, "East"),
                           nudges=NUDGES)  # fmt: skip
    assert _facts(east.held_nudges) == ["Mia deal 4", "Mia deal 3", "Mia deal 2", "Mia deal 1"]


def test_without_nudge_settings_the_digest_holds_no_nudges(session: Session) -> None:
    org = make_nudge_org(session, NOW)
    _mias_quiet_deals(session, org)
    assert all(not d.held_nudges for d in build_digests(session, _last_week(), ORG, [], NOW))


def test_the_manager_gets_the_held_nudges_and_the_team_channel_does_not(session: Session) -> None:
    org = make_nudge_org(session, NOW)
    _mias_quiet_deals(session, org)
    settings = Settings(org=ORG, sla=[], nudges=NUDGES,
                        digest=DigestConfig(channels={"East": "C0EAST"}))  # fmt: skip
    send_now(session, settings, _team(session, "East"), _last_week(), NOW)
    sent = {
        row.channel: read_notice(DigestNotice, row.payload).digest
        for row in outbox_rows(session, NoticeKind.DIGEST)
    }
    assert _facts(sent["M1"].held_nudges) == ["Mia deal 2", "Mia deal 1"]
    assert sent["C0EAST"].held_nudges == []


def _team(session: Session, name: str) -> list[Team]:
    return list(session.scalars(select(Team).where(Team.name == name)))


def test_the_preview_shows_each_recipient_what_it_would_get(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    from bot.cli.digest import _write_preview

    org = make_nudge_org(session, NOW)
    _mias_quiet_deals(session, org)
    settings = Settings(org=ORG, sla=[], nudges=NUDGES,
                        digest=DigestConfig(channels={"East": "C0EAST"}))  # fmt: skip
    deps = Deps(settings=settings, engine=engine, sessions=sessionmaker(engine))
    digests = build_digests(
        session, _last_week(), ORG, [], NOW, teams=_team(session, "East"), nudges=NUDGES
    )
    _write_preview(session, deps, digests, tmp_path, one_team=True)
    payloads = {p["channel"]: json.dumps(p["blocks"]) for p in json.loads(
        (tmp_path / "digest.json").read_text())}  # fmt: skip
    assert "Held back from your nudges" in payloads["M1"]
    assert "Held back from your nudges" not in payloads["C0EAST"]
