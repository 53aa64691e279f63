"""A sent nudge as its buttons see it: the log row's owner and the facts it was sent with."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.db.models import NudgeLog, Outbox
from salesops_core.nudges.facts import Nudge, NudgeNotice
from salesops_core.nudges.log import UnknownNudge
from salesops_core.org.access import Viewer, require_act_for
from salesops_core.outbox import read_notice


@dataclass(frozen=True)
class SentNudge:
    """A nudge that went out: its log row and what it said. Holding the row keeps it in the
    session, so the press's `log.record_action` reads it from there, not from the database."""

    row: NudgeLog
    nudge: Nudge


def nudge_for_actor(session: Session, log_id: int, actor: Viewer) -> SentNudge:
    """The sent nudge `log_id` when `actor` may act on it (its owner, their manager or an
    admin: `require_act_for`); NotAllowed for anyone else."""
    row = session.execute(
        select(NudgeLog, Outbox.payload)
        .join(Outbox, Outbox.dedupe_key == NudgeLog.dedupe_key)
        .where(NudgeLog.id == log_id)
    ).one_or_none()
    if row is None:
        raise UnknownNudge()
    require_act_for(session, actor, row.NudgeLog.rep_id, "this nudge")
    return SentNudge(row.NudgeLog, read_notice(NudgeNotice, row.payload).nudge)
