"""Finding a rep, a team or a region by what someone typed or another system sent.

A rep is named by an email (any case), a Slack user id, a Slack mention (`<@U123|jane>`), a
Slack mailto link (`<mailto:jane@x.co|jane@x.co>`), a full name (any case) or a part of one
name that no other rep's name shares. Callers choose two things:
- `active_only`: whether a rep who left counts (a Slack user who left is a stranger; a deal
  imported for them is still theirs);
- `exact`: no part-of-a-name match, for data from other systems (an owner "Ann" must not
  quietly become "Annabel").
Anything but one rep raises: AmbiguousRep with the candidates, or UnknownRep with a message
fit for the user (and the names most like the one given).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from salesops_core.db.models import Rep, Team
from salesops_core.errors import AmbiguousRep, RepCandidate, UnknownRep, UnknownTeam

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
_MAILTO = re.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_CANDIDATES = 5  # at most this many reps listed when a name is ambiguous
_SUGGESTIONS = 3  # at most this many names in a did-you-mean
_SIMILAR = 0.6  # how alike (difflib ratio) a name must be to be suggested


class RepBy(enum.Enum):
    """What a reference names a rep by."""

    SLACK_USER = "slack user id"
    EMAIL = "email"
    TEXT = "email, Slack user id or name"  # anything else: a name, or a bare id or email


@dataclass(frozen=True)
class RepRef:
    """A reference to a rep: what it names the rep by, the value, and how to show it back."""

    by: RepBy
    value: str
    shown: str

    @classmethod
    def slack_user(cls, slack_user_id: str) -> RepRef:
        """The rep linked to this Slack user id."""
        return cls(RepBy.SLACK_USER, slack_user_id, f"<@{slack_user_id}>")

    @classmethod
    def email(cls, email: str) -> RepRef:
        """The rep with this email address (any case)."""
        return cls(RepBy.EMAIL, email.strip(), email.strip())


def parse_rep_ref(text: str) -> RepRef:
    """Read `text` as a Slack mention, a mailto link, an email, or else a name or bare id."""
    stripped = text.strip()
    if mention := _MENTION.match(stripped):
        return RepRef(RepBy.SLACK_USER, mention[1], f"@{mention[2] or mention[1]}")
    if mailto := _MAILTO.match(stripped):
        return RepRef.email(mailto[1])
    if _EMAIL.match(stripped):
        return RepRef.email(stripped)
    return RepRef(RepBy.TEXT, stripped.lstrip("@"), text)


def find_rep(
    session: Session, who: str | RepRef, *, active_only: bool = False, exact: bool = False
) -> Rep:
    """The one rep `who` names: UnknownRep (with a did-you-mean) or AmbiguousRep otherwise."""
    ref = who if isinstance(who, RepRef) else parse_rep_ref(who)
    if not ref.value:
        raise UnknownRep("no rep given")
    reps = select(Rep).order_by(Rep.id).limit(_CANDIDATES)
    if active_only:
        reps = reps.where(Rep.active.is_(True))
    found = session.scalars(reps.where(_same(ref))).all()
    if not found and ref.by is RepBy.TEXT and not exact:
        found = session.scalars(reps.where(_name_contains(ref.value))).all()
    if len(found) == 1:
        return found[0]
    if found:
        raise AmbiguousRep(ref.shown, _candidates(found))
    raise _not_found(session, ref, active_only=active_only)


def _same(ref: RepRef) -> ColumnElement[bool]:
    """Reps the reference names exactly."""
    by_email = func.lower(Rep.email) == ref.value.lower()
    if ref.by is RepBy.SLACK_USER:
        return Rep.slack_user_id == ref.value
    if ref.by is RepBy.EMAIL:
        return by_email
    return or_(by_email, Rep.slack_user_id == ref.value, func.lower(Rep.name) == ref.value.lower())


def _name_contains(part: str) -> ColumnElement[bool]:
    return func.lower(Rep.name).contains(part.lower(), autoescape=True)


def _candidates(reps: Sequence[Rep]) -> tuple[RepCandidate, ...]:
    return tuple(RepCandidate(rep.id, rep.name, rep.email) for rep in reps)


def _not_found(session: Session, ref: RepRef, *, active_only: bool) -> UnknownRep:
    if ref.by is RepBy.SLACK_USER:
        return UnknownRep(
            f"{ref.shown} is not linked to a rep yet: they need to use the bot once, "
            "or ask your sales-ops admin to add them."
        )
    if ref.by is RepBy.EMAIL:
        return UnknownRep(f"No rep has the email {ref.value}.")
    names = select(Rep.name).where(Rep.active.is_(True)) if active_only else select(Rep.name)
    similar = _similar_names(ref.value, session.scalars(names).all())
    hint = f" (did you mean {', '.join(similar)}?)" if similar else ""
    return UnknownRep(f"no rep matches {ref.shown!r}{hint}", similar)


def _similar_names(wanted: str, names: Sequence[str]) -> tuple[str, ...]:
    """The names most like `wanted` (as a whole or one of its words), best first."""
    wanted = wanted.lower()
    scored = []
    for name in names:
        lowered = name.lower()
        score = max(
            SequenceMatcher(None, wanted, part).ratio() for part in [lowered, *lowered.split()]
        )
        if score >= _SIMILAR:
            scored.append((-score, name))
    return tuple(name for _, name in sorted(scored)[:_SUGGESTIONS])


def team_named(session: Session, name: str) -> Team | None:
    """The team with this name (any case), if there is one."""
    return session.scalars(
        select(Team).where(func.lower(Team.name) == name.strip().lower())
    ).first()


def find_team(session: Session, name: str) -> Team:
    """The team with this name (any case); UnknownTeam listing the known teams otherwise."""
    team = team_named(session, name)
    if team is None:
        names = session.scalars(select(Team.name).order_by(Team.name).limit(20)).all()
        known = f" Known teams: {', '.join(names)}." if names else " There are no teams yet."
        raise UnknownTeam(f"no team named {name!r}.{known}")
    return team


def region_named(session: Session, name: str) -> str | None:
    """The region with this name (any case) as its teams spell it, if a team is in it."""
    return session.scalars(
        select(Team.region).where(func.lower(Team.region) == name.strip().lower()).limit(1)
    ).first()


def find_region(session: Session, name: str) -> str:
    """The region with this name (any case); UnknownTeam listing the known regions otherwise."""
    region = region_named(session, name)
    if region is None:
        stored = session.scalars(select(Team.region).distinct().order_by(Team.region)).all()
        regions = [name for name in stored if name]
        known = f" Known regions: {', '.join(regions)}." if regions else ""
        raise UnknownTeam(f"no region named {name!r}.{known}")
    return region
