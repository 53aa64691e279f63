"""After a quarter closes: each rep's scorecard for them, each team's for its manager, once.

A rep hears of their own calls when they had a commit or a win in the quarter; a team's manager
(`org.views.team_managers`) gets the team's scorecard when any of its reps did. Each is one
outbox row keyed by person and quarter (`scorecard_key`), so a second run, a second scheduler
or `salesops forecast scorecard --send-now` sends nothing again. When each person is told is the
scheduler's decision (`bot.jobs.scorecards`); this module says what and to whom.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core import outbox
from salesops_core.config import OrgConfig
from salesops_core.db.models import Rep
from salesops_core.forecast.accuracy import (
    QuarterCall,
    RepScorecard,
    TeamScorecard,
    org_scorecards,
)
from salesops_core.org.views import team_managers
from salesops_core.outbox import NoticeKind
from salesops_core.periods import Period


@dataclass(frozen=True)
class ScorecardNotice:
    """A scorecard to deliver after `quarter` closed: a rep's own, or a team's for its manager."""

    kind: ClassVar[NoticeKind] = NoticeKind.FORECAST_SCORECARD
    quarter: str  # "2026-Q4"
    rep: RepScorecard | None = None
    team: TeamScorecard | None = None


def scorecard_key(rep_id: int, quarter: str, team_id: int | None = None) -> str:
    """The outbox key of one person's scorecard for one quarter: "scorecard:17:2026-Q4", and
    for a manager the team's, "scorecard:4:2026-Q4:team:2"."""
    key = f"scorecard:{rep_id}:{quarter}"
    return key if team_id is None else f"{key}:team:{team_id}"


@dataclass(frozen=True)
class ScorecardSend:
    """One scorecard for one person."""

    key: str
    recipient: str  # a Slack user id, else a mailbox the dispatcher looks up by email
    notice: ScorecardNotice


def _has_numbers(call: QuarterCall) -> bool:
    return call.commit is not None or call.won > 0


def scorecard_sends(
    session: Session,
    org: OrgConfig,
    quarters: Sequence[Period],
    people: Collection[int] | None = None,
) -> list[ScorecardSend]:
    """The scorecards `quarters[-1]` calls for (`people`: only for these rep ids), each over
    `quarters`: one org-wide pass of the numbers, two reads of people."""
    quarter = quarters[-1].label
    reps, teams = org_scorecards(session, org, quarters)
    managers = team_managers(session, [team.team_id for team in teams])
    wanted = [
        c for c in reps if _has_numbers(c.calls[-1]) and (people is None or c.rep_id in people)
    ]
    rows = {
        rep.id: rep
        for rep in session.scalars(
            select(Rep).where(Rep.id.in_([c.rep_id for c in wanted]), Rep.active.is_(True))
        )
    }
    sends = [
        ScorecardSend(
            scorecard_key(c.rep_id, quarter),
            _address(rows[c.rep_id]),
            ScorecardNotice(quarter, rep=c),
        )
        for c in wanted
        if c.rep_id in rows
    ]
    for team in teams:
        manager = managers.get(team.team_id)
        if manager is None or (people is not None and manager.id not in people):
            continue
        if any(_has_numbers(rep.calls[-1]) for rep in team.reps):
            sends.append(
                ScorecardSend(
                    scorecard_key(manager.id, quarter, team.team_id),
                    _address(manager),
                    ScorecardNotice(quarter, team=team),
                )
            )
    return sends


def _address(rep: Rep) -> str:
    return outbox.person_recipient(rep.slack_user_id, rep.name, rep.email)


@dataclass(frozen=True)
class SendCounts:
    """What one enqueue of scorecards did."""

    quarter: str
    enqueued: int
    already_sent: int


def enqueue_scorecards(
    session: Session, quarter: str, sends: Sequence[ScorecardSend], now: datetime
) -> SendCounts:
    """Put each scorecard in the outbox unless its key is there already. The caller commits."""
    enqueued = sum(
        outbox.enqueue(session, s.notice, dedupe_key=s.key, recipient=s.recipient, now=now)
        for s in sends
    )
    return SendCounts(quarter, enqueued, len(sends) - enqueued)
