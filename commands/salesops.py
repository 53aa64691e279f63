"""/salesops help | whoami | settings: the bot's own command."""

from __future__ import annotations

import calendar
from typing import Any

from sqlalchemy.orm import Session

from commands.kit.args import bad, tokenize
from commands.kit.blocks import code_sections, context, field_sections, header, section
from commands.kit.help import USAGES
from commands.kit.reply import CommandContext, Reply
from commands.notices import RULE_TITLES
from salesops_core.config import NudgeRule
from salesops_core.db.models import NudgeSettings
from salesops_core.kpi import format as f
from salesops_core.nudges.log import person_settings, save_settings
from salesops_core.org.access import Viewer
from salesops_core.org.views import rep_profile


def help_reply() -> Reply:
    """Every command with its arguments and what it answers."""
    blocks: list[Any] = [header("salesops: your sales numbers in Slack")]
    lines = [f"*`{u.line}`*\n{u.summary}" for u in USAGES.values()]
    blocks += [section(line) for line in lines]
    blocks.append(
        context(
            "Periods: this-week, last-month, this-quarter, 2026-Q3, 2026-05, 2026, "
            "2026-01-05..2026-02-01. Add `help` to any command for its details, "
            "`share` to post the answer in the channel."
        )
    )
    text = "salesops commands: " + ", ".join(USAGES)
    return Reply(text, blocks)


def whoami_reply(session: Session, viewer: Viewer) -> Reply:
    """The rep the bot thinks the viewer is, with role, team and manager."""
    profile = rep_profile(session, viewer.rep_id)
    sees = {
        "rep": "your own numbers",
        "manager": "your team's and its reps' numbers",
        "admin": "everyone's numbers",
    }[viewer.role.value]
    fields = [
        f"*Name*\n{viewer.name}",
        f"*Email*\n{viewer.email or f.NA}",
        f"*Role*\n{viewer.role.value}",
        f"*Team*\n{profile.team or 'no team'}" + (f" ({profile.region})" if profile.region else ""),
        f"*Manager*\n{profile.manager or f.NA}",
        f"*Time zone*\n{viewer.timezone or 'org default'}",
    ]
    blocks: list[Any] = [header("Who I think you are"), *field_sections(fields)]
    blocks.append(context(f"You can see {sees}. Wrong? Ask your sales-ops admin."))
    text = f"You are {viewer.name} ({viewer.role.value}, team {profile.team or 'none'})"
    return Reply(text, blocks)


def org_settings_blocks(ctx: CommandContext) -> list[Any]:
    """Org time zone, fiscal year start, KPI knobs and SLA policies (shown to admins)."""
    org = ctx.org
    fields = [
        f"*Time zone*\n{org.timezone}",
        f"*Fiscal year starts*\n{calendar.month_name[org.fiscal_year_start_month]}",
        f"*Stale deal after*\n{f.days(org.stale_deal_days)} without activity",
        f"*Holidays*\n{org.holiday_country or 'none'}",
    ]
    blocks: list[Any] = [header("salesops settings"), *field_sections(fields)]
    lines = [f"{'Source':<14} {'Respond':>8} {'Remind':>8} {'Manager':>8} {'Reassign':>8} Hours"]

    def cell(value: float | None) -> str:
        return "never" if value is None else f.minutes(value)

    for p in ctx.sla:
        lines.append(
            f"{p.source[:14]:<14} {cell(p.first_response_minutes):>8} "
            f"{cell(p.remind_rep_after_minutes):>8} {cell(p.alert_manager_after_minutes):>8} "
            f"{cell(p.reassign_after_minutes):>8} {'business' if p.business_hours else 'clock'}"
        )
    if ctx.sla:
        blocks.append(section("*Lead SLA policies* (first match by source wins)"))
        blocks += code_sections(lines, max_sections=2)
    else:
        blocks.append(section("*Lead SLA policies*: none configured; the default is 5 minutes."))
    blocks.append(context("Change these in salesops.toml (or SALESOPS_CONFIG) and restart."))
    return blocks


def _rule(word: str) -> NudgeRule:
    try:
        return NudgeRule(word.replace("-", "_"))
    except ValueError:
        names = ", ".join(rule.value for rule in NudgeRule)
        raise bad("/salesops", f'There is no nudge "{word}"; the nudges are {names}.') from None


def change_nudge_settings(session: Session, viewer: Viewer, words: list[str]) -> None:
    """`quiet 19:00-08:00` (or `quiet default`), `off RULE...`, `on RULE...`: the viewer's own."""
    own = person_settings(session, viewer.rep_id)
    quiet = own.quiet_hours if own else None
    rules_off = {rule for rule in NudgeRule if own and rule.value in own.rules_off}
    verb, values = words[0], words[1:]
    if verb == "quiet" and len(values) == 1:
        quiet = None if values[0] == "default" else values[0]
    elif verb in ("off", "on") and values:
        chosen = {_rule(word) for word in values}
        rules_off = rules_off | chosen if verb == "off" else rules_off - chosen
    else:
        raise bad("/salesops", f'I don\'t understand "settings {" ".join(words)}".')
    save_settings(session, viewer.rep_id, quiet_hours=quiet, rules_off=rules_off)


def nudge_settings_blocks(
    own: NudgeSettings | None, viewer: Viewer, ctx: CommandContext
) -> list[Any]:
    """The viewer's own nudge settings (`own`; None: the defaults): quiet hours, budget, and
    each rule on or off."""
    config = ctx.nudges
    quiet = (
        f"{own.quiet_hours} (yours)"
        if own and own.quiet_hours
        else f"{config.quiet_hours} (the default)"
    )
    off = set(own.rules_off) if own else set()
    org_rules = set(config.rules)

    def state(rule: NudgeRule) -> str:
        if rule not in org_rules:
            return "off for everyone"
        return "off" if rule.value in off else "on"

    zone = viewer.timezone or f"{ctx.org.timezone} (the org's)"
    fields = [
        f"*Quiet hours*\n{quiet}, and days off",
        f"*At most*\n{f.count(config.daily_budget)} a day",
        f"*Time zone*\n{zone}",
    ]
    rules = [f"`{rule.value}` {RULE_TITLES[rule]}: {state(rule)}" for rule in NudgeRule]
    return [
        header("Your nudges"),
        *field_sections(fields),
        section("\n".join(rules)),
        context(
            "Change them: `/salesops settings quiet 19:00-08:00` (or `quiet default`), "
            "`/salesops settings off few_meetings`, `/salesops settings on few_meetings`."
        ),
    ]


def settings_reply(session: Session, viewer: Viewer, ctx: CommandContext) -> Reply:
    """The viewer's own nudge settings; for admins, the org's settings too."""
    own = person_settings(session, viewer.rep_id)
    quiet = (own.quiet_hours if own else None) or ctx.nudges.quiet_hours
    off = ", ".join(own.rules_off) if own and own.rules_off else "none"
    text = f"Your nudges: quiet hours {quiet}, rules off: {off}"
    blocks = nudge_settings_blocks(own, viewer, ctx)
    if viewer.is_admin:
        return Reply(text, [*blocks, *org_settings_blocks(ctx)])
    blocks.append(context("The org's settings (time zone, lead SLAs) are for sales-ops admins."))
    return Reply(text, blocks)


def handle(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer /salesops help | whoami | settings [quiet HH:MM-HH:MM | off RULE | on RULE]."""
    words = [w.lower() for w in tokenize(text)]
    if not words or words == ["help"]:
        return help_reply()
    if words == ["whoami"]:
        return whoami_reply(session, viewer)
    if words[0] == "settings":
        if words[1:]:
            change_nudge_settings(session, viewer, words[1:])
        return settings_reply(session, viewer, ctx)
    raise bad("/salesops", f'I don\'t understand "{" ".join(tokenize(text))}".')
