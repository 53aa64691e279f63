"""Domain errors. Their messages are safe to show a user as they are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def either(options: Sequence[str]) -> str:
    """Options as a question offers them: "A", "A or B", "A, B or C"."""
    return " or ".join(filter(None, [", ".join(options[:-1]), *options[-1:]]))


def more_than_one(wanted: str, what: str, options: Sequence[str]) -> str:
    """The question for a name that fits several: `"west" is more than one team: did you mean
    EMEA West or NA West?`."""
    return f'"{wanted}" is more than one {what}: did you mean {either(options)}?'


class SalesopsError(Exception):
    """Base for errors whose message can be shown to a user."""


class UnknownPeriod(SalesopsError):
    """A period word or range that cannot be parsed."""


class UnknownRep(SalesopsError):
    """No rep matches the given email, name or Slack id; `suggestions`: names like the one given."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.suggestions = suggestions


@dataclass(frozen=True)
class RepCandidate:
    """One of the reps an ambiguous name could mean (plain values: safe after the session)."""

    id: int
    name: str
    email: str | None

    def __str__(self) -> str:
        return f"{self.name} ({self.email})" if self.email else self.name


class AmbiguousRep(UnknownRep):
    """Several reps match; `candidates` are (some of) them, for the user to choose from."""

    def __init__(self, wanted: str, candidates: tuple[RepCandidate, ...]) -> None:
        self.wanted = wanted
        self.candidates = candidates
        names = [candidate.name for candidate in candidates]
        told_apart = [
            str(candidate) if names.count(candidate.name) > 1 else candidate.name
            for candidate in candidates
        ]  # namesakes by their email
        super().__init__(more_than_one(wanted, "rep", told_apart))


class UnknownTeam(SalesopsError):
    """No team (or region) matches the given name."""


class NotAllowed(SalesopsError):
    """The viewer may not see what they asked for."""


class BadArguments(SalesopsError):
    """A slash command got words it does not understand; the message shows a correct example."""


class ConfigError(SalesopsError):
    """A configuration value is missing or invalid."""


class DatabaseNotReady(SalesopsError):
    """The database schema is missing or behind the code's migrations."""


class DatabaseUnavailable(SalesopsError):
    """DATABASE_URL names no database salesops can open (not a URL, an unknown kind, a folder
    that does not exist, a server that does not answer)."""
