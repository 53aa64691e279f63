"""Notices as Slack messages: Block Kit and fallback text for every kind the outbox holds.

The core records that someone must be told, and the facts (`salesops_core.leads.notices`);
this module decides how that reads in Slack, when the dispatcher sends it (`render`, or
`render_file` for a digest's chart) or a button rewrites its own message (`lead_dm`). The lead
buttons' action ids live here too, so the listener that answers them reads the same names the
messages carry.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from commands.digest import digest_message
from commands.forecast_scorecard import scorecard_message
from commands.kit.blocks import context, header, section
from commands.kit.message import SlackMessage
from salesops_core.digest.facts import DigestChartNotice, DigestNotice
from salesops_core.forecast.notices import ScorecardNotice
from salesops_core.kpi import format as f
from salesops_core.leads.notices import (
    SNOOZE_MINUTES,
    LeadAction,
    LeadDmUpdate,
    LeadFacts,
    LeadReassigned,
    LeadReminder,
    ManagerAlert,
    NewLead,
)
from salesops_core.nudges.facts import DEFERRALS, Action, Nudge, NudgeNotice, RollupNotice, Rule
from salesops_core.outbox import NoticeKind, read_notice

ACTION_IDS = {
    LeadAction.CONTACTED: "lead_contacted",
    LeadAction.SNOOZE: "lead_snooze",
    LeadAction.REASSIGN: "lead_reassign",
}
ACTIONS_BY_ID = {action_id: action for action, action_id in ACTION_IDS.items()}


LEAD_GONE = SlackMessage("This lead no longer exists.", [])


def _when(moment: datetime | None) -> str:
    """A time every reader sees in their own time zone (Slack date formatting), UTC fallback."""
    if moment is None:
        return "n/a"
    epoch = int(moment.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def _title(lead: LeadFacts) -> str:
    company = lead.company or "(no company)"
    source = f" from {lead.source}" if lead.source else ""
    return f"*{company}*{source} · `{lead.external_id}`"


def _buttons(lead: LeadFacts) -> ActionsBlock:
    labels = {
        LeadAction.CONTACTED: "Contacted",
        LeadAction.SNOOZE: f"Snooze {SNOOZE_MINUTES:g} min",
        LeadAction.REASSIGN: "Reassign",
    }
    return ActionsBlock(
        block_id=f"lead_{lead.lead_id}",
        elements=[
            ButtonElement(
                text=label,
                action_id=ACTION_IDS[action],
                value=str(lead.lead_id),
                style="primary" if action == LeadAction.CONTACTED else None,
            )
            for action, label in labels.items()
        ],
    )


def _new_lead_blocks(lead: LeadFacts) -> list[Block]:
    return [
        section(f":zap: New lead for you: {_title(lead)}"),
        section(f"Respond by {_when(lead.respond_by)}."),
    ]


def new_lead(notice: NewLead) -> SlackMessage:
    """The owner's DM for a new (or newly assigned) lead, with the action buttons."""
    lead = notice.lead
    text = f"New lead: {lead.name}"
    if lead.respond_by is not None:
        text += f" — respond by {lead.respond_by:%H:%M} UTC"
    return SlackMessage.of(text, [*_new_lead_blocks(lead), _buttons(lead)])


def lead_reminder(notice: LeadReminder) -> SlackMessage:
    """Ladder step 1: the lead is still waiting for its owner."""
    lead = notice.lead
    return SlackMessage.of(
        f"Reminder: lead {lead.name} is still waiting for you",
        [
            section(
                f":alarm_clock: Still waiting: {_title(lead)}\n"
                f"Response was due {_when(lead.respond_by)}."
            ),
            _buttons(lead),
        ],
    )


def manager_alert(notice: ManagerAlert) -> SlackMessage:
    """Ladder step 2: the owner's manager hears the lead has had no response."""
    lead, who = notice.lead, notice.owner or "nobody"
    return SlackMessage.of(
        f"Lead {lead.name} owned by {who} has had no response",
        [
            section(
                f":rotating_light: No response yet: {_title(lead)}\n"
                f"Owner: {who}. Response was due {_when(lead.respond_by)}."
            )
        ],
    )


def lead_reassigned(notice: LeadReassigned) -> SlackMessage:
    """The previous owner hears where the lead went: their DM rewritten, or a message of its
    own; no buttons, the lead is not theirs to act on any more."""
    text = f"Lead {notice.lead.name} was reassigned to {notice.new_owner}"
    moved = f":arrows_counterclockwise: Reassigned to {notice.new_owner}; it is theirs now."
    return SlackMessage.of(text, [section(f"{_title(notice.lead)}\n{moved}")])


def lead_dm(update: LeadDmUpdate) -> SlackMessage:
    """The lead DM as it reads now: still open (actions kept, the status as a note) or done."""
    lead = update.lead
    if update.still_open:
        blocks = [*_new_lead_blocks(lead), context(update.status), _buttons(lead)]
        return SlackMessage.of(new_lead(NewLead(lead)).text, blocks)
    return SlackMessage.of(
        f"{lead.name}: {update.status}",
        [section(f"{_title(lead)}\n:white_check_mark: {update.status}")],
    )


# ---- nudges -----------------------------------------------------------------------------

NUDGE_ACTION_IDS = {
    Action.OPEN_DEAL: "nudge_open_deal",
    Action.LOG_ACTIVITY: "nudge_log_activity",
    Action.SUBMIT_FORECAST: "nudge_submit_forecast",
    Action.SNOOZE_DAY: "nudge_snooze_day",
    Action.SNOOZE_WEEK: "nudge_snooze_week",
    Action.NOT_RELEVANT: "nudge_not_relevant",
}
NUDGE_ACTIONS_BY_ID = {action_id: action for action, action_id in NUDGE_ACTION_IDS.items()}
NUDGE_BUTTON_LABELS = {
    Action.OPEN_DEAL: "Open in CRM",
    Action.LOG_ACTIVITY: "Log activity",
    Action.SUBMIT_FORECAST: "Submit forecast",
    Action.SNOOZE_DAY: "Snooze a day",
    Action.SNOOZE_WEEK: "Snooze a week",
    Action.NOT_RELEVANT: "Not relevant",
}
RULE_TITLES = {
    Rule.STALE_DEAL: "Stale deals",
    Rule.PAST_CLOSE: "Past expected close",
    Rule.NO_FORECAST: "Missing commit forecast",
    Rule.FEW_MEETINGS: "Few prospect meetings",
    Rule.BEHIND_PACE: "Behind pace",
    Rule.LOW_SELLING_TIME: "Low selling time",
}


def _nudge_button(nudge: Nudge, action: Action, log_id: int) -> ButtonElement:
    return ButtonElement(
        text=NUDGE_BUTTON_LABELS[action],
        action_id=NUDGE_ACTION_IDS[action],
        value=str(log_id),
        url=nudge.crm_url if action == Action.OPEN_DEAL else None,
        style="primary" if action not in DEFERRALS else None,
    )


def nudge_buttons(nudge: Nudge, log_id: int) -> ActionsBlock:
    """The nudge's own actions (Open in CRM only with a CRM link), then snooze and mute."""
    doing = [a for a in nudge.actions if a not in DEFERRALS]
    shown = [a for a in doing if a != Action.OPEN_DEAL or nudge.crm_url] + list(DEFERRALS)
    return ActionsBlock(
        block_id=f"nudge_{log_id}",
        elements=[_nudge_button(nudge, action, log_id) for action in shown],
    )


def nudge_message(notice: NudgeNotice) -> SlackMessage:
    """A nudge for its person: the fact in bold, why it matters, and its buttons."""
    nudge = notice.nudge
    return SlackMessage.of(
        nudge.fact,
        [section(f"*{nudge.fact}*\n{nudge.why}"), nudge_buttons(nudge, notice.log_id)],
    )


def nudge_done(nudge: Nudge, status: str) -> SlackMessage:
    """The nudge after a button press: the fact, and what was done instead of the buttons."""
    return SlackMessage.of(
        f"{nudge.fact} — {status}", [section(f"*{nudge.fact}*"), context(status)]
    )


def snoozed_status(until: datetime) -> str:
    """ "Snoozed until Tue 9:00" in the reader's own time zone."""
    return f":zzz: Snoozed until {_when(until)}."


def subject_label(nudge: Nudge) -> str:
    """What a nudge is about, as a reader names it: the deal's id, the period ..."""
    return nudge.deal_external_id or nudge.subject.partition(":")[2] or nudge.subject


def muted_status(nudge: Nudge) -> str:
    """ "Muted: you won't hear about OPP-7 again (stale deals)."."""
    title = RULE_TITLES[nudge.rule].lower()
    return f":no_bell: Muted: you won't hear about {subject_label(nudge)} again ({title})."


def logged_status(kind: str, minutes: float | None) -> str:
    """ "Logged your 30 min call." """
    length = f"{f.minutes(minutes)} " if minutes is not None else ""
    return f":white_check_mark: Logged your {length}{kind}."


def _rollup_line(count: int, title: str, top: list[Nudge]) -> str:
    lines = [f"*{title}*: {f.count(count)}"]
    lines += [f"• {n.rep}: {n.fact}" for n in top]
    if count > len(top):
        lines.append(f"…and {f.count(count - len(top))} more")
    return "\n".join(lines)


def rollup_message(notice: RollupNotice) -> SlackMessage:
    """A manager's morning roll-up: per rule, how many of the team's nudges are open, top first."""
    team = f" ({notice.team})" if notice.team else ""
    day = datetime.fromisoformat(notice.day)
    title = f"Your team's open nudges{team}, {day:%a %d %b}"
    lines = [line for line in notice.lines if line.count]
    if not lines:
        return SlackMessage.of(f"{title}: none", [header(title), section("Nothing open today.")])
    counts = ", ".join(f"{RULE_TITLES[line.rule].lower()} {f.count(line.count)}" for line in lines)
    blocks: list[Block] = [header(title)]
    blocks += [section(_rollup_line(ln.count, RULE_TITLES[ln.rule], ln.top)) for ln in lines]
    blocks.append(context("Each rep has their own nudges, with buttons to act on them."))
    return SlackMessage.of(f"{title}: {counts}", blocks)


N = TypeVar("N")
R = TypeVar("R")


def _renderer(notice_type: type[N], draw: Callable[[N], R]) -> Callable[..., R]:
    return lambda payload: draw(read_notice(notice_type, payload))


def digest(notice: DigestNotice) -> SlackMessage:
    """A team's digest (saying so when its chart could not be drawn)."""
    return digest_message(notice.digest, chart_note=notice.chart_note)


@dataclass(frozen=True)
class SlackFile:
    """A file for the files v2 upload (`files_upload_v2`): bytes, name, title and alt text,
    and the comment it is shared with."""

    content: bytes
    filename: str
    title: str
    alt_text: str
    initial_comment: str


def digest_chart(notice: DigestChartNotice) -> SlackFile:
    """The digest's chart as a file, shared after (and beside) its digest message."""
    return SlackFile(
        content=base64.b64decode(notice.png_base64, validate=True),
        filename=notice.filename,
        title=notice.title,
        alt_text=notice.title,
        initial_comment=f":bar_chart: {notice.title}",
    )


RENDERERS: dict[NoticeKind, Callable[[dict[str, Any]], SlackMessage]] = {
    NoticeKind.NEW_LEAD: _renderer(NewLead, new_lead),
    NoticeKind.LEAD_REMINDER: _renderer(LeadReminder, lead_reminder),
    NoticeKind.MANAGER_ALERT: _renderer(ManagerAlert, manager_alert),
    NoticeKind.LEAD_REASSIGNED: _renderer(LeadReassigned, lead_reassigned),
    NoticeKind.LEAD_DM_UPDATE: _renderer(LeadDmUpdate, lead_dm),
    NoticeKind.NUDGE: _renderer(NudgeNotice, nudge_message),
    NoticeKind.NUDGE_ROLLUP: _renderer(RollupNotice, rollup_message),
    NoticeKind.DIGEST: _renderer(DigestNotice, digest),
    NoticeKind.FORECAST_SCORECARD: _renderer(ScorecardNotice, scorecard_message),
}
# Kinds that are posted as a file (files v2 upload), not as a chat message.
FILE_RENDERERS: dict[NoticeKind, Callable[[dict[str, Any]], SlackFile]] = {
    NoticeKind.DIGEST_CHART: _renderer(DigestChartNotice, digest_chart),
}


class UnreadableNotice(ValueError):
    """A stored notice of an unknown kind, or whose facts do not fit its kind."""


def is_file(kind: str) -> bool:
    """True for a notice kind that is posted as a file (`render_file`), not a message."""
    return kind in FILE_RENDERERS


def render(kind: str, payload: dict[str, Any]) -> SlackMessage:
    """The Slack message for a stored notice (its kind and its facts as stored)."""
    if is_file(kind):
        raise UnreadableNotice(f"a {kind!r} notice is a file: use render_file")
    try:
        return RENDERERS[NoticeKind(kind)](payload)
    except ValueError as exc:  # an unknown kind, or facts that fail validation
        raise UnreadableNotice(f"unreadable {kind!r} notice: {exc}") from exc


def render_file(kind: str, payload: dict[str, Any]) -> SlackFile:
    """The file for a stored file notice (see `is_file`)."""
    try:
        return FILE_RENDERERS[NoticeKind(kind)](payload)
    except KeyError:
        raise UnreadableNotice(f"a {kind!r} notice is not a file: use render") from None
    except ValueError as exc:  # an unknown kind, facts that fail validation, bad base64
        raise UnreadableNotice(f"unreadable {kind!r} notice: {exc}") from exc
