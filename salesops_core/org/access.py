"""Who may see whose numbers, and who may act for whom.

A rep sees their own numbers; a manager sees their own team, the reps in it and the reps who
report to them, one by one (not the teams those reports sit in); an admin sees everything.
Region and org scopes are for admins only: a manager of one team in a region would otherwise
see the other teams' numbers through the total.

Who may act (press a button on a lead, a nudge, ...) for its owner: the owner, a manager who
sees the owner (as above), or an admin; `require_act_for` is that one rule.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from salesops_core.db.models import Rep, Role
from salesops_core.errors import NotAllowed

if TYPE_CHECKING:
    from salesops_core.org.scopes import Scope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Viewer:
    """The person asking: the rep the bot identified, with the role that decides access."""

    rep_id: int
    name: str
    email: str | None
    role: Role
    team_id: int | None
    timezone: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER


def viewer_for_rep(rep: Rep) -> Viewer:
    """The Viewer for a rep row (copies plain values, so it outlives the session)."""
    return Viewer(
        rep_id=rep.id,
        name=rep.name,
        email=rep.email,
        role=Role(rep.role),
        team_id=rep.team_id,
        timezone=rep.timezone,
    )


def _manager_sees_rep(session: Session, viewer: Viewer, rep_id: int) -> bool:
    """One query: the rep is in the manager's team or reports to the manager."""
    conditions = [Rep.manager_id == viewer.rep_id]
    if viewer.team_id is not None:
        conditions.append(Rep.team_id == viewer.team_id)
    query = select(exists().where(Rep.id == rep_id, or_(*conditions)))
    return bool(session.scalar(query))


def _sees_rep(session: Session, viewer: Viewer, rep_id: int) -> bool:
    """The rule for one rep: the rep themselves, a manager who sees them, or an admin."""
    if viewer.is_admin or rep_id == viewer.rep_id:
        return True
    return viewer.is_manager and _manager_sees_rep(session, viewer, rep_id)


def can_view(session: Session, viewer: Viewer, scope: Scope) -> bool:
    """True when `viewer` may see the numbers of `scope` (see the module docstring)."""
    if viewer.is_admin:
        return True
    if scope.kind == "rep":
        return _sees_rep(session, viewer, int(scope.key))  # type: ignore[arg-type]
    if scope.kind == "team":
        return viewer.is_manager and viewer.team_id is not None and scope.key == viewer.team_id
    return False


def refusal_message(viewer: Viewer, scope: Scope) -> str:
    """A polite, specific explanation of why the request was refused."""
    if scope.kind == "rep":
        if viewer.is_manager:
            return (
                f"Sorry, {scope.name} is not on your team, so I can't show their numbers. "
                "Ask your sales-ops admin if you need access."
            )
        return (
            f"Sorry, you can only see your own numbers, not {scope.name}'s. "
            "Your manager or a sales-ops admin can see the team's."
        )
    if scope.kind == "team":
        if viewer.is_manager:
            return (
                f"Sorry, {scope.name} is not your team, so I can't show its numbers. "
                "Ask your sales-ops admin if you need access."
            )
        return (
            f"Sorry, team numbers ({scope.name}) are for managers and admins. "
            "Try it without a team to see your own numbers."
        )
    return f"Sorry, numbers for {scope.name} are for sales-ops admins only."


def require_view(session: Session, viewer: Viewer, scope: Scope) -> None:
    """Raise NotAllowed (with a polite message) unless `viewer` may see `scope`; log refusals."""
    if can_view(session, viewer, scope):
        return
    log.warning(
        "access refused: viewer rep_id=%s role=%s asked for %s %r",
        viewer.rep_id,
        viewer.role.value,
        scope.kind,
        scope.key,
    )
    raise NotAllowed(refusal_message(viewer, scope))


def may_act_for(session: Session, actor: Viewer, owner_id: int | None) -> bool:
    """True when `actor` may act for the rep `owner_id`: the owner, their manager, an admin.

    "Their manager" is a manager who sees the owner's numbers (same team, or a direct report);
    something nobody owns is for admins only.
    """
    if owner_id is None:
        return actor.is_admin
    return _sees_rep(session, actor, owner_id)


def require_act_for(session: Session, actor: Viewer, owner_id: int | None, thing: str) -> None:
    """Raise NotAllowed (one line, nothing changed) unless `actor` may act for `owner_id` on
    `thing` (e.g. "this lead"); log refusals."""
    if may_act_for(session, actor, owner_id):
        return
    log.warning(
        "action refused: rep_id=%s role=%s on %s owned by rep_id=%s",
        actor.rep_id,
        actor.role.value,
        thing,
        owner_id,
    )
    owner = session.get(Rep, owner_id) if owner_id is not None else None
    if owner is None:
        raise NotAllowed(
            f"Sorry, {thing} has no owner, so only a sales-ops admin can act on it. "
            "Nothing was changed."
        )
    raise NotAllowed(
        f"Sorry, {thing} is {owner.name}'s: only they, their manager or a sales-ops admin can "
        "act on it. Nothing was changed."
    )
