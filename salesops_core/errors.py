"""Domain errors. Their messages are safe to show a user as they are."""

from __future__ import annotations

from dataclasses import dataclass


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
        listed = ", ".join(str(candidate) for candidate in candidates)
        super().__init__(f"{wanted!r} matches several reps: {listed}; use their email")


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
