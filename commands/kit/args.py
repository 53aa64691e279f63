"""Slash-command arguments: a period, a rep or team, `share`, `help`, in any order.

Slack sends mentions as `<@U123|jane>` (or `<@U123>`) and emails as `<mailto:a@b.co|a@b.co>`;
both are understood, as are plain names ("jane", "Jane Doe"), handles (`ines.dubois`), emails
and team or region names, found by the one finder (`salesops_core.org.lookup.find_named`).
`me` is the asker. Anything else raises BadArguments naming the word and showing a correct
example; a misspelt period word gets a did-you-mean.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.orm import Session

from commands.kit.help import USAGES
from commands.kit.reply import CommandContext
from salesops_core.db.models import Team
from salesops_core.errors import (
    AmbiguousRep,
    BadArguments,
    UnknownPeriod,
    UnknownRep,
    UnknownTeam,
    either,
)
from salesops_core.org.access import Viewer, can_view, require_view
from salesops_core.org.lookup import Region, RepBy, find_named, find_rep, parse_rep_ref
from salesops_core.org.scopes import (
    ORG_SCOPE,
    Scope,
    region_scope,
    rep_scope,
    team_scope,
    team_scope_by_id,
)
from salesops_core.periods import Period, looks_like_period, parse_period, period_suggestion

# Slash-command text longer than this is refused before parsing: a command takes a few words
# (a period, a name, `share`), never a page.
MAX_TEXT_CHARS = 4000
# A word: unquoted runs and "quoted" or 'quoted' parts, side by side (possessive: linear time).
_WORD = re.compile(r"""(?:[^\s"']++|"[^"]*+"|'[^']*+')++""")
_ALL_WORDS = re.compile(rf"\s*+(?:{_WORD.pattern}\s*+)*+")
_QUOTED = re.compile(r""""([^"]*)"|'([^']*)'""")

DEFAULT_PERIOD = "this-quarter"
OWN_TEAM_WORDS = ("team", "my-team")
MYSELF_WORDS = ("me", "myself")
ORG_WORDS = ("org", "everyone", "all")


@dataclass(frozen=True)
class Args:
    """Parsed arguments: what period, whose numbers, and where to answer."""

    period: Period
    scope: Scope
    share: bool = False
    help: bool = False
    explicit_scope: bool = False


def bad(command: str, problem: str) -> BadArguments:
    """A BadArguments error: the problem, the usage line and a correct example."""
    usage = USAGES[command]
    return BadArguments(f"{problem} Usage: `{usage.line}`. Example: `{usage.example}`")


def check_text(command: str, text: str) -> None:
    """Refuse (BadArguments) text too long to be a command, or with characters no one types."""
    if len(text) > MAX_TEXT_CHARS:
        raise bad(
            command,
            f"That text is {len(text):,} characters long; a command takes at most "
            f"{MAX_TEXT_CHARS:,}.",
        )
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cs") and char not in "\t\n\r":
            raise bad(
                command, f"The text holds a control character (U+{ord(char):04X}); retype it."
            )


def tokenize(text: str) -> list[str]:
    """Words of the command text; "quoted names" stay one word (linear in the text's length).

    With an unbalanced quote the text falls back to plain words. The dispatcher and the
    handler both ask for the words of the same text: the second answer comes from a cache.
    """
    return list(_words(text))


@lru_cache(maxsize=64)
def _words(text: str) -> tuple[str, ...]:
    if not _ALL_WORDS.fullmatch(text):  # an unbalanced quote
        return tuple(text.split())
    return tuple(
        _QUOTED.sub(lambda quoted: quoted[1] if quoted[1] is not None else quoted[2], word[0])
        for word in _WORD.finditer(text)
    )


def _named_scope(session: Session, viewer: Viewer, phrase: str, command: str) -> Scope:
    """The team, region or rep this phrase names; BadArguments (with a did-you-mean) if none
    or several, or the access answer (NotAllowed) when the viewer may see none of several."""
    try:
        named = find_named(session, phrase)
    except AmbiguousRep as error:
        candidates = [Scope("rep", c.id, phrase) for c in error.candidates]
        if not any(can_view(session, viewer, candidate) for candidate in candidates):
            require_view(session, viewer, candidates[0])  # refused, in the phrase's words
        raise bad(command, f"{error}") from None
    except UnknownTeam as error:  # several teams, or teams and reps
        raise bad(command, f"{error}") from None
    except UnknownRep as error:
        hint = f" Did you mean {either(error.suggestions)}?" if error.suggestions else ""
        problem = f'I don\'t understand "{phrase}": it is not a period, team or rep I know.{hint}'
        raise bad(command, problem) from None
    if isinstance(named, Team):
        return team_scope(named)
    if isinstance(named, Region):
        return region_scope(named.name)
    return rep_scope(named)


def _own_team(session: Session, viewer: Viewer, command: str) -> Scope:
    if viewer.team_id is None:
        raise bad(command, "You are not on a team, so `team` means nothing for you yet.")
    return team_scope_by_id(session, viewer.team_id)


def viewer_scope(viewer: Viewer) -> Scope:
    """The viewer's own rep scope."""
    return Scope("rep", viewer.rep_id, viewer.name)


def default_scope(session: Session, viewer: Viewer) -> Scope:
    """Whose numbers a command with no name shows (and App Home): an admin's the org, a
    manager's their team (a manager's own quota and pipeline are often empty), anyone else's
    their own."""
    if viewer.is_admin:
        return ORG_SCOPE
    if viewer.is_manager and viewer.team_id is not None:
        return team_scope_by_id(session, viewer.team_id)
    return viewer_scope(viewer)


def parse_args(
    session: Session,
    viewer: Viewer,
    command: str,
    text: str,
    ctx: CommandContext,
    *,
    default_scope: Scope | None = None,
    default_period: str = DEFAULT_PERIOD,
) -> Args:
    """Parse `text` for `command`; the scope defaults to the viewer (or `default_scope`), the
    period to `default_period`."""
    period_word: str | None = None
    scope: Scope | None = None
    share = help_ = False
    words: list[str] = []  # consecutive free words form one name

    def set_scope(found: Scope) -> None:
        nonlocal scope
        if scope is not None and scope != found:
            raise bad(command, f"Give one rep or team, not both {scope.name} and {found.name}.")
        scope = found

    def flush() -> None:
        if words:
            set_scope(_named_scope(session, viewer, " ".join(words), command))
            words.clear()

    for token in tokenize(text):
        word = token.lower()
        ref = parse_rep_ref(token)
        if word in ("help", "-h", "--help", "?"):
            help_ = True
        elif word == "share":
            share = True
        elif ref.by is not RepBy.TEXT:  # a Slack mention, mailto link or email
            flush()
            set_scope(rep_scope(find_rep(session, ref)))
        elif looks_like_period(word) or period_suggestion(word):  # a typo: parsed to say so
            flush()
            if period_word is not None:
                raise bad(command, f'Give one period, not both "{period_word}" and "{token}".')
            period_word = token
        elif word in MYSELF_WORDS and not words:
            set_scope(viewer_scope(viewer))
        elif word in OWN_TEAM_WORDS and not words:
            set_scope(_own_team(session, viewer, command))
        elif word in ORG_WORDS and not words:
            set_scope(ORG_SCOPE)
        elif word.startswith(("<#", "<!")):
            raise bad(command, f'I don\'t understand "{token}": channels and groups have no KPIs.')
        else:
            words.append(token)
    flush()
    if help_:
        return Args(period=_period(DEFAULT_PERIOD, ctx, command), scope=viewer_scope(viewer),
                    help=True)  # fmt: skip
    return Args(
        period=_period(period_word or default_period, ctx, command),
        scope=scope or default_scope or viewer_scope(viewer),
        share=share,
        explicit_scope=scope is not None,
    )


def _period(word: str, ctx: CommandContext, command: str) -> Period:
    try:
        return parse_period(
            word,
            tz=ctx.org.tz,
            fiscal_year_start_month=ctx.org.fiscal_year_start_month,
            now=ctx.current_time(),
        )
    except UnknownPeriod as error:
        raise bad(command, f"{error}") from None


def parse_and_check(
    session: Session, viewer: Viewer, command: str, text: str, ctx: CommandContext
) -> Args:
    """parse_args with the viewer's `default_scope` when the text names no one, then refuse
    (NotAllowed, logged) a scope the viewer may not see."""
    first = default_scope(session, viewer)
    args = parse_args(session, viewer, command, text, ctx, default_scope=first)
    if not args.help:
        require_view(session, viewer, args.scope)
    return args
