"""Slash-command arguments: a period, a rep or team, `share`, `help`, in any order.

Slack sends mentions as `<@U123|jane>` (or `<@U123>`) and emails as `<mailto:a@b.co|a@b.co>`;
both are understood, as are plain names ("jane", "Jane Doe"), emails and team or region names.
Anything else raises BadArguments naming the word and showing a correct example.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.kit.help import USAGES
from commands.kit.reply import CommandContext
from salesops_core.db.models import Rep, Team
from salesops_core.errors import BadArguments, UnknownPeriod, UnknownRep
from salesops_core.org.access import Viewer, require_view
from salesops_core.org.scopes import ORG_SCOPE, Scope, find_rep, region_scope, rep_scope, team_scope
from salesops_core.periods import Period, looks_like_period, parse_period

DEFAULT_PERIOD = "this-quarter"
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
_MAILTO = re.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
OWN_TEAM_WORDS = ("team", "my-team")
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


def tokenize(text: str) -> list[str]:
    """Words of the command text; "quoted names" stay one word."""
    try:
        return shlex.split(text)
    except ValueError:  # an unbalanced quote: fall back to plain words
        return text.split()


def _rep_by_slack_id(session: Session, slack_id: str, label: str) -> Scope:
    rep = session.scalar(select(Rep).where(Rep.slack_user_id == slack_id))
    if rep is None:
        raise UnknownRep(
            f"{label} is not linked to a rep yet: they need to use the bot once, "
            "or ask your sales-ops admin to add them."
        )
    return rep_scope(rep)


def _rep_by_email(session: Session, email: str) -> Scope:
    rep = session.scalar(select(Rep).where(func.lower(Rep.email) == email.lower()))
    if rep is None:
        raise UnknownRep(f"No rep has the email {email}.")
    return rep_scope(rep)


def _named_scope(session: Session, phrase: str, command: str) -> Scope:
    """A team, then a region, then a rep with this name; BadArguments if none."""
    lowered = phrase.lower()
    team = session.scalar(select(Team).where(func.lower(Team.name) == lowered))
    if team is not None:
        return team_scope(team)
    region = session.scalar(select(Team.region).where(func.lower(Team.region) == lowered).limit(1))
    if region is not None:
        return region_scope(region)
    try:
        return rep_scope(find_rep(session, phrase))
    except UnknownRep as error:
        if "several" in str(error):
            problem = f'"{phrase}" matches several reps; use an @mention or email.'
            raise bad(command, problem) from None
        raise bad(
            command, f'I don\'t understand "{phrase}": it is not a period, team or rep I know.'
        ) from None


def _own_team(session: Session, viewer: Viewer, command: str) -> Scope:
    if viewer.team_id is None:
        raise bad(command, "You are not on a team, so `team` means nothing for you yet.")
    team = session.get(Team, viewer.team_id)
    assert team is not None
    return team_scope(team)


def viewer_scope(viewer: Viewer) -> Scope:
    """The viewer's own rep scope."""
    return Scope("rep", viewer.rep_id, viewer.name)


def parse_args(
    session: Session,
    viewer: Viewer,
    command: str,
    text: str,
    ctx: CommandContext,
    *,
    default_scope: Scope | None = None,
) -> Args:
    """Parse `text` for `command`; the scope defaults to the viewer (or `default_scope`)."""
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
            set_scope(_named_scope(session, " ".join(words), command))
            words.clear()

    for token in tokenize(text):
        word = token.lower()
        mention = _MENTION.match(token)
        mailto = _MAILTO.match(token)
        if word in ("help", "-h", "--help", "?"):
            help_ = True
        elif word == "share":
            share = True
        elif mention:
            flush()
            set_scope(_rep_by_slack_id(session, mention[1], f"@{mention[2] or mention[1]}"))
        elif mailto or _EMAIL.match(token):
            flush()
            set_scope(_rep_by_email(session, mailto[1] if mailto else token))
        elif looks_like_period(word):
            flush()
            if period_word is not None:
                raise bad(command, f'Give one period, not both "{period_word}" and "{token}".')
            period_word = token
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
        period=_period(period_word or DEFAULT_PERIOD, ctx, command),
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
    session: Session,
    viewer: Viewer,
    command: str,
    text: str,
    ctx: CommandContext,
    *,
    default_scope: Scope | None = None,
) -> Args:
    """parse_args, then refuse (NotAllowed, logged) a scope the viewer may not see."""
    args = parse_args(session, viewer, command, text, ctx, default_scope=default_scope)
    if not args.help:
        require_view(session, viewer, args.scope)
    return args
