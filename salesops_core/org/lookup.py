"""Finding a rep, a team or a region by what someone typed or another system sent.

A rep is named by an email (any case), a Slack user id, a Slack mention (`<@U123|jane>`), a
Slack mailto link (`<mailto:jane@x.co|jane@x.co>`) or a full name (any case); what a person
types may also be a handle (`ines.dubois`, `@ines.dubois`: an email's local part, or the name
with dots), a whole word of a name (`Olivia`, `Khan`) or a part of one. Teams and regions are
named in any case, by a whole word (`west` for "NA West") or the start of words (`na w`).
Accents and case never matter (`julia muller` is Julia Müller).

Closer matches win: exact names, then handles, then whole words, then parts; several matches
at the closest level are ambiguous, and nothing at any level gives a did-you-mean. Callers of
`find_rep` choose two things:
- `active_only`: whether a rep who left counts (a Slack user who left is a stranger; a deal
  imported for them is still theirs);
- `exact`: exact names only, for data from other systems (an owner "Ann" must not quietly
  become "Annabel").
`find_named` reads a slash command's words, where a team, a region or a rep may be meant.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TypeVar

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from salesops_core.db.models import Rep, Team
from salesops_core.errors import (
    AmbiguousRep,
    RepCandidate,
    UnknownRep,
    UnknownTeam,
    either,
    more_than_one,
)

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
_MAILTO = re.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_CANDIDATES = 5  # at most this many reps listed when a name is ambiguous
_SUGGESTIONS = 3  # at most this many names in a did-you-mean
_SIMILAR = 0.7  # how alike (difflib ratio) a name must be to be suggested
_NEAR = 0.1  # suggested names are at most this much less alike than the best one
_SEPARATORS = re.compile(r"[._]+")  # what a handle has between the words of a name


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


def _fold(text: str) -> str:
    """`text` as names are compared: no accents, any case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def _spoken(text: str) -> str:
    """A handle read as a name: `olivia.khan` and `olivia_khan` are "olivia khan"."""
    return _fold(_SEPARATORS.sub(" ", text))


def _whole_words(phrase: str, text: str) -> bool:
    """`phrase` is one or more whole words of `text` (both folded)."""
    return f" {phrase} " in f" {text} "


def _word_starts(phrase: str, text: str) -> bool:
    """Each word of `phrase` starts a word of `text`, in a row (`na w` in "na west")."""
    wanted, words = phrase.split(), text.split()
    return any(
        all(word.startswith(part) for word, part in zip(words[i:], wanted, strict=False))
        for i in range(len(words) - len(wanted) + 1)
    )


def _is_handle(typed: str, name: str, email: str | None) -> bool:
    """`ines.dubois` for ines.dubois@x.co, or for "Ines Dubois"."""
    local_part = _fold(email).partition("@")[0] if email else None
    return local_part == _fold(typed) or name == _spoken(typed)


def _has_words(typed: str, name: str, _: str | None) -> bool:
    return _whole_words(_spoken(typed), name)


def _has_part(typed: str, name: str, _: str | None) -> bool:
    return _fold(typed) in name


def _starts_words(typed: str, name: str, _: str | None) -> bool:
    return _word_starts(_spoken(typed), name)


def _never(typed: str, name: str, _: str | None) -> bool:
    return False


# The levels a typed name is matched at after the exact one, closest first: a handle, whole
# words, then a part of a name (a rep) or the starts of words (a team or a region; they have
# no handles). Each takes the typed text, the folded name and the email.
_Match = Callable[[str, str, str | None], bool]
_REP_LEVELS: tuple[_Match, ...] = (_is_handle, _has_words, _has_part)
_GROUP_LEVELS: tuple[_Match, ...] = (_never, _has_words, _starts_words)


@dataclass(frozen=True)
class Region:
    """A region, by the name its teams spell it with."""

    name: str


Named = Rep | Team | Region
_Group = TypeVar("_Group")  # a Team, a Region or a region name


def find_rep(
    session: Session, who: str | RepRef, *, active_only: bool = False, exact: bool = False
) -> Rep:
    """The one rep `who` names: UnknownRep (with a did-you-mean) or AmbiguousRep otherwise."""
    ref = who if isinstance(who, RepRef) else parse_rep_ref(who)
    if not ref.value:
        raise UnknownRep("no rep given")
    for found in _rep_levels(session, ref, active_only=active_only, exact=exact):
        if len(found) == 1:
            return found[0]
        if found:
            raise AmbiguousRep(ref.shown, _candidates(found))
    raise _not_found(session, ref, active_only=active_only)


def find_named(session: Session, text: str) -> Named:
    """The one team, region or rep `text` names (a slash command's words): the closest level
    with any match decides; UnknownRep with suggestions, AmbiguousRep or UnknownTeam (several
    teams, or teams and reps) otherwise."""
    ref = parse_rep_ref(text)
    if ref.by is not RepBy.TEXT or not ref.value:
        return find_rep(session, ref)
    teams = session.scalars(select(Team).order_by(Team.name)).all()
    groups: list[Team | Region] = [*teams, *_regions_apart_from_teams(teams)]
    rep_levels = _rep_levels(session, ref, active_only=False, exact=False)
    group_levels = _group_levels(ref.value, groups, lambda g: g.name)
    for found_groups, found_reps in zip(group_levels, rep_levels, strict=True):
        found: list[Named] = [*found_groups, *found_reps]
        if len(found) == 1:
            return found[0]
        if found and not found_groups:
            raise AmbiguousRep(ref.shown, _candidates(found_reps))
        if found:
            kinds = " or ".join(
                kind for kind, model in (("team", Team), ("region", Region), ("rep", Rep))
                if any(isinstance(named, model) for named in found)
            )  # fmt: skip
            raise UnknownTeam(more_than_one(ref.shown, kinds, [n.name for n in found]))
    names = [group.name for group in groups] + list(session.scalars(select(Rep.name)))
    similar = _similar_names(ref.value, names)
    raise UnknownRep(f"no team, region or rep matches {ref.shown!r}{_hint(similar)}", similar)


def _regions_apart_from_teams(teams: Sequence[Team]) -> list[Region]:
    """The regions, except one spelled like a team (the team is meant: "EMEA")."""
    team_names = {_fold(team.name) for team in teams}
    regions = {team.region for team in teams if team.region}
    return [Region(name) for name in sorted(regions) if _fold(name) not in team_names]


def _rep_levels(
    session: Session, ref: RepRef, *, active_only: bool, exact: bool
) -> Iterable[Sequence[Rep]]:
    """The reps `ref` names at each level, closest first (exact names only when `exact`, or
    when the reference is a mention or an email); the reps are read once, when needed."""
    reps = select(Rep).order_by(Rep.id).limit(_CANDIDATES)
    if active_only:
        reps = reps.where(Rep.active.is_(True))
    yield session.scalars(reps.where(_same(ref))).all()
    if ref.by is not RepBy.TEXT or exact:
        return
    people = select(Rep.id, Rep.name, Rep.email).order_by(Rep.id)
    if active_only:
        people = people.where(Rep.active.is_(True))
    rows = [(row.id, _fold(row.name), row.email) for row in session.execute(people)]
    for level in _REP_LEVELS:
        ids = [rep_id for rep_id, name, email in rows if level(ref.value, name, email)]
        by_id = select(Rep).where(Rep.id.in_(ids[:_CANDIDATES])).order_by(Rep.id)
        yield session.scalars(by_id).all() if ids else []


def _group_levels(
    typed: str, groups: Sequence[_Group], name_of: Callable[[_Group], str]
) -> Iterable[list[_Group]]:
    """The teams or regions `typed` names at each level, closest first."""
    folded = [(group, _fold(name_of(group))) for group in groups]
    yield [group for group, name in folded if name == _fold(typed)]
    for level in _GROUP_LEVELS:
        yield [group for group, name in folded if level(typed, name, None)][:_CANDIDATES]


def _one_group(
    typed: str, groups: Sequence[_Group], name_of: Callable[[_Group], str], what: str
) -> _Group | None:
    """The one team or region `typed` names at the closest level with any match; UnknownTeam
    (`what`: "team" or "region") when several match there; None when none does."""
    for found in _group_levels(typed, groups, name_of):
        if len(found) == 1:
            return found[0]
        if found:
            raise UnknownTeam(more_than_one(typed, what, [name_of(group) for group in found]))
    return None


def _same(ref: RepRef) -> ColumnElement[bool]:
    """Reps the reference names exactly."""
    by_email = func.lower(Rep.email) == ref.value.lower()
    if ref.by is RepBy.SLACK_USER:
        return Rep.slack_user_id == ref.value
    if ref.by is RepBy.EMAIL:
        return by_email
    return or_(by_email, Rep.slack_user_id == ref.value, func.lower(Rep.name) == ref.value.lower())


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
    return UnknownRep(f"no rep matches {ref.shown!r}{_hint(similar)}", similar)


def _similar_names(wanted: str, names: Sequence[str]) -> tuple[str, ...]:
    """The names most like `wanted` (as a whole or one of its words; the start of a word just
    passes), best first: those about as alike as the best one (a near miss of one full name
    does not list every namesake)."""
    wanted = _spoken(wanted)
    scored: dict[str, float] = {}
    for name in names:
        folded = _fold(name)
        score = max(
            max(
                SequenceMatcher(None, wanted, part).ratio(),
                _SIMILAR * bool(wanted and part.startswith(wanted)),
            )
            for part in [folded, *folded.split()]
        )
        if score >= _SIMILAR:
            scored[name] = max(score, scored.get(name, 0.0))
    best = max(scored.values(), default=0.0)
    close = sorted((-score, name) for name, score in scored.items() if score >= best - _NEAR)
    return tuple(name for _, name in close[:_SUGGESTIONS])


def _hint(similar: Sequence[str]) -> str:
    """ " (did you mean A or B?)" after a name nothing matches; nothing without suggestions."""
    return f" (did you mean {either(similar)}?)" if similar else ""


def team_named(session: Session, name: str) -> Team | None:
    """The team with this name (any case), if there is one."""
    return session.scalars(
        select(Team).where(func.lower(Team.name) == name.strip().lower())
    ).first()


def find_team(session: Session, name: str) -> Team:
    """The one team `name` names (any case, a whole word or the starts of words of its name);
    UnknownTeam saying which teams it could be, or with a did-you-mean and the known teams."""
    exact = team_named(session, name)
    if exact is not None:
        return exact
    teams = session.scalars(select(Team).order_by(Team.name)).all()
    team = _one_group(name, teams, lambda team: team.name, "team")
    if team is not None:
        return team
    names = [team.name for team in teams]
    hint = _hint(_similar_names(name, names))
    known = f" Known teams: {', '.join(names[:20])}." if names else " There are no teams yet."
    raise UnknownTeam(f"no team named {name!r}{hint}.{known}")


def region_named(session: Session, name: str) -> str | None:
    """The region with this name (any case) as its teams spell it, if a team is in it."""
    return session.scalars(
        select(Team.region).where(func.lower(Team.region) == name.strip().lower()).limit(1)
    ).first()


def find_region(session: Session, name: str) -> str:
    """The one region `name` names (any case, a whole word or the starts of words); UnknownTeam
    saying which regions it could be, or listing the known regions."""
    exact = region_named(session, name)
    if exact is not None:
        return exact
    stored = session.scalars(select(Team.region).distinct().order_by(Team.region)).all()
    regions = [region for region in stored if region]
    region = _one_group(name, regions, lambda region: region, "region")
    if region is not None:
        return region
    hint = _hint(_similar_names(name, regions))
    known = f" Known regions: {', '.join(regions)}." if regions else ""
    raise UnknownTeam(f"no region named {name!r}{hint}.{known}")
