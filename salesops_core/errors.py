"""Domain errors. Their messages are safe to show a user as they are."""


class SalesopsError(Exception):
    """Base for errors whose message can be shown to a user."""


class UnknownPeriod(SalesopsError):
    """A period word or range that cannot be parsed."""


class UnknownRep(SalesopsError):
    """No rep matches the given email, name or Slack id."""


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
