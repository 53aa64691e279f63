"""KPI scopes: a rep, a team (its current reps), a region (its teams' reps) or the org.

Team numbers use CURRENT membership: a rep who moved teams brings all their deals, leads and
activities (past periods included) to the new team. The data model keeps no membership history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, func, or_, select, true
from sqlalchemy.orm import Session

from salesops_core.db.models import Rep, Team
from salesops_core.errors import UnknownRep, UnknownTeam

ScopeKind = Literal["rep", "team", "region", "org"]


@dataclass(frozen=True)
class Scope:
    """Who the numbers are about. `key`: rep id, team id, region name, or None for the org."""

    kind: ScopeKind
    key: int | str | None
    name: str

    def to_json(self) -> dict[str, Any]:
        """The `scope` object of `salesops kpi --format json`."""
        return {"kind": self.kind, "key": self.key, "name": self.name}


ORG_SCOPE = Scope("org", None, "Org")


def rep_scope(rep: Rep) -> Scope:
    """The scope of one rep."""
    return Scope("rep", rep.id, rep.name)


def team_scope(team: Team) -> Scope:
    """The scope of one team (its current reps)."""
    return Scope("team", team.id, team.name)


def region_scope(region: str) -> Scope:
    """The scope of a region (the reps of its teams)."""
    return Scope("region", region, region)


def find_rep(session: Session, text: str) -> Rep:
    """A rep by email, Slack user id, exact name, or a unique case-insensitive name match."""
    needle = text.strip().lstrip("@")
    if needle.startswith("<@") and needle.endswith(">"):
        needle = needle[2:-1].split("|")[0]
    exact = session.scalars(
        select(Rep).where(
            or_(
                func.lower(Rep.email) == needle.lower(),
                Rep.slack_user_id == needle,
                func.lower(Rep.name) == needle.lower(),
            )
        )
    ).all()
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise UnknownRep(f"{text!r} matches several reps; use their email")
    partial = session.scalars(
        select(Rep).where(func.lower(Rep.name).contains(needle.lower())).limit(3)
    ).all()
    if len(partial) == 1:
        return partial[0]
    hint = f" (did you mean {', '.join(r.name for r in partial)}?)" if partial else ""
    raise UnknownRep(f"no rep matches {text!r}{hint}")


def find_team(session: Session, text: str) -> Team:
    """A team by name, case-insensitive."""
    team = session.scalars(
        select(Team).where(func.lower(Team.name) == text.strip().lower())
    ).first()
    if team is None:
        names = session.scalars(select(Team.name).order_by(Team.name).limit(20)).all()
        known = f" Known teams: {', '.join(names)}." if names else " There are no teams yet."
        raise UnknownTeam(f"no team named {text!r}.{known}")
    return team


def find_region(session: Session, text: str) -> str:
    """A region name as stored on teams, case-insensitive."""
    region = session.scalars(
        select(Team.region).where(func.lower(Team.region) == text.strip().lower())
    ).first()
    if region is None:
        names = session.scalars(
            select(Team.region).where(Team.region.is_not(None)).distinct().order_by(Team.region)
        ).all()
        known = f" Known regions: {', '.join(names)}." if names else ""
        raise UnknownTeam(f"no region named {text!r}.{known}")
    return region


def resolve_scope(
    session: Session,
    *,
    rep: str | None = None,
    team: str | None = None,
    region: str | None = None,
) -> Scope:
    """The scope named by at most one of rep / team / region; the org when none is given."""
    given = [name for name, value in (("rep", rep), ("team", team), ("region", region)) if value]
    if len(given) > 1:
        raise UnknownTeam(f"give only one of --rep, --team, --region (got {', '.join(given)})")
    if rep:
        return rep_scope(find_rep(session, rep))
    if team:
        return team_scope(find_team(session, team))
    if region:
        return region_scope(find_region(session, region))
    return ORG_SCOPE


def scope_rep_ids(scope: Scope) -> Select[tuple[int]] | None:
    """A subquery of the rep ids in the scope; None for the org (no filter)."""
    if scope.kind == "team":
        return select(Rep.id).where(Rep.team_id == scope.key)
    if scope.kind == "region":
        return select(Rep.id).join(Team, Rep.team_id == Team.id).where(Team.region == scope.key)
    return None


def in_scope(owner_column: Any, scope: Scope) -> ColumnElement[bool]:
    """A WHERE condition restricting `owner_column` (a rep id column) to the scope."""
    if scope.kind == "rep":
        return owner_column == scope.key
    ids = scope_rep_ids(scope)
    return true() if ids is None else owner_column.in_(ids)


def reps_in_scope(scope: Scope) -> Select[Any]:
    """Rep rows in the scope with their team name (for leaderboards)."""
    query = select(
        Rep.id, Rep.name, Rep.email, Rep.active, Rep.role, Team.name.label("team")
    ).outerjoin(Team, Rep.team_id == Team.id)
    return query.where(in_scope(Rep.id, scope))
