"""The command table and the dispatcher the bot (and `salesops ask`) call."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from commands import forecast, kpi, leads, meetings, pipeline, quota, salesops, team
from commands.kit.args import bad, check_text, tokenize
from commands.kit.blocks import header, section
from commands.kit.help import USAGES, usage_text
from commands.kit.reply import Chart, CommandContext, Reply
from salesops_core.org.access import Viewer

__all__ = ["COMMANDS", "Chart", "CommandContext", "Handler", "Reply", "run_command", "usage_reply"]

Handler = Callable[[Session, Viewer, str, CommandContext], Reply]

COMMANDS: dict[str, Handler] = {
    "/kpi": kpi.handle,
    "/pipeline": pipeline.handle,
    "/leads": leads.handle,
    "/forecast": forecast.handle,
    "/quota": quota.handle,
    "/meetings": meetings.handle,
    "/team": team.handle,
    "/salesops": salesops.handle,
}
assert set(COMMANDS) == set(USAGES), "every command needs a usage text"


def usage_reply(command: str) -> Reply:
    """The private usage message of one command."""
    usage = USAGES[command]
    return Reply(f"Usage: {usage.line}", [header(f"{command} help"), section(usage_text(command))])


def run_command(
    session: Session, viewer: Viewer, command: str, text: str, ctx: CommandContext
) -> Reply:
    """Answer one slash command. `help` anywhere in the text gives the usage (privately).

    Raises BadArguments for text over MAX_TEXT_CHARS characters or with control characters
    (checked before any parsing) and for words the command does not understand; NotAllowed for
    numbers the viewer may not see; other SalesopsErrors (unknown rep, ...) propagate the same way.
    """
    name = command if command.startswith("/") else f"/{command}"
    handler = COMMANDS.get(name)
    if handler is None:
        known = ", ".join(COMMANDS)
        raise bad("/salesops", f"There is no command {command}; the commands are {known}.")
    check_text(name, text)
    words = [w.lower() for w in tokenize(text)]
    if name != "/salesops" and any(w in ("help", "-h", "--help", "?") for w in words):
        return usage_reply(name)
    return handler(session, viewer, text, ctx)
