"""Usage text for every slash command: what it answers, its arguments, examples.

The examples name people and teams of the demo org (`salesops demo`), so a new user can paste
them as they are; tests/db/test_help_examples.py runs each one there.
"""

from __future__ import annotations

from dataclasses import dataclass

from salesops_core.periods import ACCEPTED_FORMS


@dataclass(frozen=True)
class Usage:
    """How to call one command."""

    command: str
    arguments: str
    summary: str
    examples: tuple[str, ...]

    @property
    def line(self) -> str:
        """`/kpi [period] [@rep | team] [share]`."""
        return f"{self.command} {self.arguments}".strip()

    @property
    def example(self) -> str:
        """The first example, the one error messages show."""
        return self.examples[0]


TARGET = "[@rep | team]"
USAGES: dict[str, Usage] = {
    u.command: u
    for u in (
        Usage(
            "/kpi",
            f"[period] {TARGET} [share]",
            "Your KPIs (attainment, won, win rate, deal size, cycle, pipeline, coverage, "
            "velocity, lead response, selling time, meetings) with the change vs the previous "
            "period, and a trend chart. Managers first see their team, with who to chase, and "
            "admins the org; `/kpi me` is your own.",
            (
                "/kpi last-quarter",
                "/kpi this-month @ines.dubois",
                "/kpi Q3 West share",
                "/kpi ytd me",
            ),
        ),
        Usage(
            "/pipeline",
            f"[period] {TARGET} [share]",
            "Open pipeline by stage, weighted and unweighted, coverage and stale deals.",
            ("/pipeline this-quarter", "/pipeline last-month West"),
        ),
        Usage(
            "/leads",
            f"[period] {TARGET} [share]",
            "Lead response: median and p90 time to first response, SLA met, unanswered leads.",
            ("/leads this-week", "/leads last-month @ines.dubois"),
        ),
        Usage(
            "/forecast",
            f"[period] {TARGET} [share] | submit [quarter] [team [name]] | scorecard {TARGET} "
            "[quarter]",
            "Your last submitted forecast vs won so far, the weighted pipeline closing in the "
            "period and quota, the bot's own forecast with the range won should land in 8 times "
            "in 10 (P10-P90), your latest submission (a team's: the manager's team call next "
            "to the reps' commits); forecast accuracy of the last closed period, with the "
            "forecast it was measured on. `/forecast submit` opens a form for your commit, best "
            "case and a note (the next quarter, or the running one until its cut-off); "
            "`/forecast submit team` is a manager's team call (admins name the team). "
            "`/forecast scorecard` shows how accurate and how biased your commits were over the "
            "last four closed quarters (yours or a rep's; a manager's plain one is the team's, "
            "with its MAPE (the average of its reps' own misses), and `me` their own); always "
            "private.",
            (
                "/forecast this-quarter",
                "/forecast last-quarter West",
                "/forecast submit",
                "/forecast submit team",
                "/forecast scorecard",
                "/forecast scorecard team",
            ),
        ),
        Usage(
            "/quota",
            f"[period] {TARGET} [share]",
            "Quota attainment, gap to quota and pace: where you should be by now.",
            ("/quota this-month", "/quota last-quarter Ines"),
        ),
        Usage(
            "/meetings",
            f"[period] {TARGET} [share]",
            "Prospect meetings held, per week, compared with the team average.",
            ("/meetings this-month", "/meetings last-quarter ines.dubois"),
        ),
        Usage(
            "/team",
            "[digest] [team] [period] [share]",
            "Managers and admins: the team leaderboard and who is behind pace, with an "
            "attainment chart. `/team digest` shows the team's weekly digest now (default: "
            "last-week); admins get a region's or the org's too (`/team digest org`).",
            (
                '/team "NA West" last-quarter',
                "/team",
                "/team digest",
                "/team digest this-week",
                "/team digest NA West",
            ),
        ),
        Usage(
            "/salesops",
            "help | whoami | settings [quiet HH:MM-HH:MM | off RULE | on RULE]",
            "Help for every command; who the bot thinks you are; your nudge settings (quiet "
            "hours, nudges off or on) and, for admins, the org's settings.",
            (
                "/salesops help",
                "/salesops whoami",
                "/salesops settings quiet 19:00-08:00",
                "/salesops settings off few_meetings",
            ),
        ),
    )
}

PERIOD_HELP = f"Periods: {ACCEPTED_FORMS}. Default: this-quarter."
TARGET_HELP = (
    "Someone else: an @mention, a handle (`ines.dubois`), a first or full name or an email "
    "(managers: your team's reps; admins: anyone), a team name or a word of it (`west`), "
    "`team` for your own team, `me` for yourself, `org` for everyone (admins)."
)


def usage_text(command: str) -> str:
    """The full usage of one command as mrkdwn."""
    usage = USAGES[command]
    lines = [f"*`{usage.line}`*", usage.summary]
    if command != "/salesops":
        lines += [PERIOD_HELP, TARGET_HELP if command != "/team" else ""]
        lines.append("Add `share` to post the answer in the channel instead of only to you.")
    lines.append("Examples: " + ", ".join(f"`{e}`" for e in usage.examples))
    return "\n".join(line for line in lines if line)
