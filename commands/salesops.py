"""/salesops help | whoami | settings: the bot's own command."""

from __future__ import annotations

import calendar
import logging
from typing import Any

from sqlalchemy.orm import Session

from commands.kit.args import bad, tokenize
from commands.kit.blocks import code_sections, context, field_sections, header, section
from commands.kit.help import USAGES
from commands.kit.reply import CommandContext, Reply
from salesops_core.errors import NotAllowed
from salesops_core.kpi import format as f
from salesops_core.org.access import Viewer
from salesops_core.org.views import rep_profile

log = logging.getLogger(__name__)


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


def settings_reply(viewer: Viewer, ctx: CommandContext) -> Reply:
    """Org time zone, fiscal year start, KPI knobs and SLA policies (admins only)."""
    if not viewer.is_admin:
        log.warning("access refused: rep_id=%s asked for /salesops settings", viewer.rep_id)
        raise NotAllowed("Sorry, the bot's settings are for sales-ops admins only.")
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
        return "never" if value is None else f"{f.number(value)}m"

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
    text = (
        f"Settings: time zone {org.timezone}, fiscal year from month {org.fiscal_year_start_month}"
    )
    return Reply(text, blocks)


def handle(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer /salesops help | whoami | settings."""
    words = [w.lower() for w in tokenize(text)]
    if not words or words == ["help"]:
        return help_reply()
    if words == ["whoami"]:
        return whoami_reply(session, viewer)
    if words == ["settings"]:
        return settings_reply(viewer, ctx)
    raise bad("/salesops", f'I don\'t understand "{" ".join(tokenize(text))}".')
