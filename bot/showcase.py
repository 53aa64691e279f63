"""What the bot would answer, shown without Slack: the end of `salesops demo`.

One rep asks `/kpi` and `/pipeline`, their manager asks `/team`, through the same
`run_command` the Slack listeners call, rendered as text (charts off: the demo stays fast;
`salesops ask ... --charts-dir DIR` writes them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from bot.deps import Deps
from commands.base import CommandContext, run_command
from commands.kit.text import reply_as_text
from salesops_core.db.engine import transaction
from salesops_core.db.models import Rep, Role
from salesops_core.org.access import viewer_for_rep

REP_COMMANDS = ("/kpi", "/pipeline")
MANAGER_COMMANDS = ("/team",)


def pick_rep_and_manager(session: Session) -> tuple[Rep, Rep] | None:
    """The first active rep (by id) whose manager is an active manager."""
    manager = aliased(Rep)
    row = session.execute(
        select(Rep, manager)
        .join(manager, manager.id == Rep.manager_id)
        .where(Rep.role == Role.REP, Rep.active, manager.role == Role.MANAGER, manager.active)
        .order_by(Rep.id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def showcase(deps: Deps, now: datetime | None = None) -> list[tuple[str, str]]:
    """The text answers of /kpi and /pipeline for one rep and /team for their manager, at `now`
    (the demo's `--now`, shown in each command line so it can be run again) or the clock, as
    (command line, answer) pairs; none when no rep has a manager."""
    context = CommandContext(
        org=deps.settings.org, sla=tuple(deps.settings.sla), now=now, charts=False
    )
    at = f" --now {now.isoformat(timespec='seconds')}" if now else ""
    with transaction(deps.sessions) as session:
        people = pick_rep_and_manager(session)
        if people is None:
            return []
        rep, manager = people
        asks = [(rep, command) for command in REP_COMMANDS]
        asks += [(manager, command) for command in MANAGER_COMMANDS]
        parts = []
        for person, command in asks:
            reply = run_command(session, viewer_for_rep(person), command, "", context)
            who = f"{person.name} <{person.email}>" if person.email else person.name
            parts.append(
                (
                    f"$ salesops ask {command} --as {person.email or person.name!r}{at}",
                    f"  ({who} typing {command} in Slack)\n\n{reply_as_text(reply)}",
                )
            )
    return parts
