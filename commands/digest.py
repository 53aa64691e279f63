"""A team's digest as one Slack message: what a manager reads on Monday morning.

`digest_message` turns the facts of `salesops_core.digest.facts.TeamDigest` into Block Kit, in
the order a VP of Sales reads it: header, a one-line summary, the headline numbers vs the
period before, quarter to date, the leaderboard, who is behind pace, lead SLA, stale deals
worth a call (with an "Open in CRM" link button where the deal's URL is known), what changed,
the recipient's own nudges the daily budget held back (when there are any), and a footer.
Every number goes through `salesops_core.kpi.format`. An empty period says so in one section.
The message stays inside Block Kit's limits (`commands.kit.blocks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, ButtonElement, MarkdownTextObject, SectionBlock

from commands.kit.blocks import (
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_SECTION_TEXT,
    clip,
    code_sections,
    context,
    divider,
    guard,
    header,
    section,
)
from commands.kit.common import conversion_field
from commands.kit.message import SlackMessage
from commands.kit.slack_time import slack_time
from salesops_core.digest.facts import (
    Mover,
    RepLine,
    Responder,
    StaleDeal,
    TeamDigest,
)
from salesops_core.digest.words import (
    compared_with,
    inner_label,
    period_noun,
    period_span,
    period_title,
    period_unit,
    weighted_closing_label,
)
from salesops_core.kpi import format as f
from salesops_core.kpi.registry import KPI_BY_KEY

# The "Open in CRM" link button. Slack still posts a block action for a URL button, so the bot
# acks this id (bot.listeners.link_buttons) and the reader sees no warning icon.
OPEN_IN_CRM = "digest_open_in_crm"

NAME_WIDTH = 18
MAX_BEHIND = 15  # reps named under "Behind pace"; the rest are marked in the leaderboard
MAX_STALE = 5  # stale deals shown, one section (and button) each
MAX_MOVERS = 5
MAX_SLOWEST = 3
MAX_HELD = 5  # the recipient's held-back nudges listed, one line each
LEADERBOARD_SECTIONS = 3  # a code block of ~45 reps each

# Numbers that need a quota for the period: a week has none when quotas are quarterly, so the
# headline leaves them out then and the quarter-to-date section carries them.
QUOTA_KPIS = frozenset({"pipeline_coverage"})

# The headline numbers vs the previous period; with deals won / lost, the 10 fields of a section.
HEADLINE_KPIS = (
    "won_amount",
    "win_rate",
    "avg_deal_size",
    "avg_sales_cycle_days",
    "open_pipeline_value",
    "pipeline_coverage",
    "lead_response_minutes_median",
    "lead_sla_met_share",
    "meetings_per_rep_per_week",
)


def _change(key: str, current: Any, previous: Any) -> str | None:
    """The change of a KPI in the formatter's words; None when it is undefined."""
    change = f.kpi_delta(key, current, previous)
    return None if change == f.NA else change


def _headline_field(key: str, digest: TeamDigest) -> str:
    now, before = digest.kpis.get(key), digest.previous.get(key)
    text = f"*{KPI_BY_KEY[key].label}*\n{f.format_kpi(key, now)}"
    change = _change(key, now, before)
    return f"{text}\n_{change}_" if change else text


def _deals_field(digest: TeamDigest) -> str:
    """Deals won and lost, and their changes ("= no change" once when neither changed)."""
    kpis, previous = digest.kpis, digest.previous
    keys = {"won": "won_count", "lost": "lost_count"}
    text = f"*Deals won / lost*\n{f.count(kpis.get('won_count'))} won · "
    text += f"{f.count(kpis.get('lost_count'))} lost"
    changes = {
        word: change
        for word, key in keys.items()
        if (change := _change(key, kpis.get(key), previous.get(key)))
    }
    if len(changes) == 2 and all(kpis.get(k) == previous.get(k) for k in keys.values()):
        return f"{text}\n_{changes['won']}_"
    if not changes:
        return text
    return text + "\n_" + " · ".join(f"{word} {change}" for word, change in changes.items()) + "_"


def _fields_section(title: str, fields: Sequence[str]) -> SectionBlock:
    """A section with a title line and its fields (at most 10, Slack's limit)."""
    assert len(fields) <= MAX_FIELDS, fields
    return SectionBlock(
        text=MarkdownTextObject(text=clip(title, MAX_SECTION_TEXT)),
        fields=[MarkdownTextObject(text=clip(field, MAX_FIELD_TEXT)) for field in fields],
    )


def _headline(digest: TeamDigest) -> SectionBlock:
    fields = [_headline_field("won_amount", digest), _deals_field(digest)]
    fields += [
        _headline_field(key, digest)
        for key in HEADLINE_KPIS[1:]
        if key not in QUOTA_KPIS or digest.kpis.get(key) is not None  # quotas are quarterly
    ]
    title = f"*{period_noun(digest.period).capitalize()}* {compared_with(digest.period)}"
    return _fields_section(title, fields)


def _expected(digest: TeamDigest) -> float:
    """The attainment on pace by now: the share of the quarter elapsed."""
    return digest.chart.expected_attainment


def _expected_words(digest: TeamDigest) -> str:
    return f"{f.pct(_expected(digest))} expected by now"


def _pace_words(digest: TeamDigest) -> str:
    """ "64% of quota, 58% expected by now" (or "no quota set")."""
    attainment = digest.quarter_to_date.get("quota_attainment")
    if attainment is None:
        return "no quota set"
    if not digest.quarter.running:
        return f"{f.pct(attainment)} of quota"
    return f"{f.pct(attainment)} of quota, {_expected_words(digest)}"


def _quarter_section(digest: TeamDigest) -> SectionBlock:
    qtd, forecast = digest.quarter_to_date, digest.forecast
    won = float(qtd.get("won_amount") or 0)
    attainment = qtd.get("quota_attainment")
    if attainment is None:
        fields = ["*Quota attainment*\nNo quota set"]
    elif digest.quarter.running:
        fields = [f"*Quota attainment*\n{f.pct(attainment)}\n_{_expected_words(digest)}_"]
    else:
        fields = [f"*Quota attainment*\n{f.pct(attainment)}"]
    if forecast.quota:
        still = max(forecast.quota - won, 0.0)
        fields.append(
            f"*Won*\n{f.money(won)} of {f.money(forecast.quota)}\n_{f.money(still)} still to win_"
        )
    else:
        fields.append(f"*Won*\n{f.money(won)}")
    if forecast.forecast is None:
        fields.append("*Forecast*\nNobody has submitted one")
    elif forecast.forecast > 0:
        share = f.pct(won / forecast.forecast)
        fields.append(f"*Forecast*\n{f.money(forecast.forecast)}\n_{share} of it won so far_")
    else:
        fields.append(f"*Forecast*\n{f.money(forecast.forecast)}")
    if forecast.weighted_pipeline is not None:
        label = weighted_closing_label(digest.quarter)
        fields.append(f"*{label}*\n{f.money(forecast.weighted_pipeline)}")
    coverage = qtd.get("pipeline_coverage")
    if coverage is not None:
        fields.append(
            f"*Pipeline coverage*\n{f.format_kpi('pipeline_coverage', coverage)}\n"
            "_pipeline due this quarter / quota still to win_"
        )
    if qtd.get("pipeline_conversion") is not None:
        fields.append(conversion_field(qtd, running=digest.quarter.running))
    quarter = digest.quarter
    return _fields_section(
        f"*Quarter to date* · {inner_label(quarter)}, {period_span(quarter)}", fields
    )


def _mark(line: RepLine) -> str:
    return " !" if line.behind_pace else ""


def _unit(digest: TeamDigest) -> str:
    """What a leaderboard line is: a rep, or a team in a region's or the org's digest."""
    return "rep" if digest.scope == "team" else "team"


def leaderboard_lines(lines: Sequence[RepLine], unit: str = "rep") -> list[str]:
    """The leaderboard as aligned monospace lines; `!` marks a rep (or team) behind pace."""
    rows = [
        f"{'#':>2} {unit.capitalize():<{NAME_WIDTH}} {'Won':>8} {'Quota':>6} {'Win':>5} "
        f"{'Meet':>5} {'Reply':>8}"
    ]
    for rank, line in enumerate(lines, start=1):
        rows.append(
            f"{rank:>2} {clip(line.name, NAME_WIDTH):<{NAME_WIDTH}} "
            f"{f.money(line.won_amount):>8} {f.pct(line.quota_attainment):>6} "
            f"{f.pct(line.win_rate):>5} {f.number(line.meetings_per_week):>5} "
            f"{f.minutes(line.lead_response_minutes_median):>8}{_mark(line)}"
        )
    return rows


def _leaderboard(digest: TeamDigest) -> list[Block]:
    if not digest.leaderboard:
        empty = "Nobody is on the team yet." if _unit(digest) == "rep" else "No team has reps yet."
        return [section(f"*Leaderboard* · {empty}")]
    noun = period_noun(digest.period)
    legend = (
        f"*Leaderboard* · won, win rate, meetings a week and median lead reply in {noun}; "
        "quota attainment quarter to date"
    )
    if any(line.behind_pace for line in digest.leaderboard):
        legend += "; `!` behind pace"
    lines = leaderboard_lines(digest.leaderboard, _unit(digest))
    return [section(legend), *code_sections(lines, max_sections=LEADERBOARD_SECTIONS)]


def _behind_pace(digest: TeamDigest) -> SectionBlock:
    rated = [line for line in digest.leaderboard if line.behind_pace is not None]
    behind = digest.behind_pace
    lagging = "Behind pace" if digest.quarter.running else "Below quota"
    if not rated:
        who = "Nobody on the team has" if _unit(digest) == "rep" else "No team has"
        return section(f"*{lagging}* · {who} a quota for this quarter.")
    if not behind:
        return section(f"*{lagging}* · Nobody: everyone with a quota is on pace.")
    title = f"*{lagging}* · {len(behind)} of {len(rated)} {_unit(digest)}s with a quota"
    if digest.quarter.running:
        title += f", {f.pct(_expected(digest))} of quota expected by now"
    gap_words = "short of pace" if digest.quarter.running else "short of quota"
    rows = []
    for line in behind[:MAX_BEHIND]:
        row = f"• {line.name}: {f.pct(line.quota_attainment)} of quota"
        if line.pace_gap:
            row += f", {f.money(line.pace_gap)} {gap_words}"
        rows.append(row)
    if len(behind) > MAX_BEHIND:
        rows.append(f"…and {len(behind) - MAX_BEHIND} more, marked `!` in the leaderboard.")
    return section("\n".join([title, *rows]))


def _responder(responder: Responder) -> str:
    median = (
        f"{f.minutes(responder.median_minutes)} median"
        if responder.median_minutes is not None
        else "no reply yet"
    )
    missed = f", {f.count(responder.breaches)} missed" if responder.breaches else ""
    return f"{responder.name} ({median}{missed})"


def _sla(digest: TeamDigest) -> SectionBlock:
    sla = digest.sla
    if sla.leads == 0:
        return section(f"*Lead SLA* · No new leads in {period_noun(digest.period)}.")
    met_share = f.format_kpi("lead_sla_met_share", digest.kpis.get("lead_sla_met_share"))
    waiting = sla.leads - sla.met - sla.breached  # not answered yet, still inside their SLA
    parts = [f"{f.count(sla.met)} answered in time", f"{f.count(sla.breached)} missed the SLA"]
    if waiting > 0:
        parts.append(f"{f.count(waiting)} still inside it")
    text = f"*Lead SLA* · {f.plural(sla.leads, 'new lead')}: " + ", ".join(parts) + "."
    if met_share != f.NA:
        text += f" SLA met: {met_share} of the leads decided."
    if sla.unanswered:
        text += f" {f.plural(sla.unanswered, 'lead')} still without a reply."
    if sla.slowest:
        text += "\nMost SLA misses: " + " · ".join(map(_responder, sla.slowest[:MAX_SLOWEST]))
    return section(text)


def _deal_title(deal: StaleDeal) -> str:
    name = deal.name or deal.account or deal.external_id
    account = f" · {deal.account}" if deal.account and deal.account not in name else ""
    return f"*{name}*{account}"


def _deal_block(deal: StaleDeal) -> SectionBlock:
    facts = [deal.owner]
    if deal.amount is not None:
        facts.append(f.money(deal.amount))
    if deal.days_quiet is not None:
        facts.append(f"quiet for {f.whole_days(deal.days_quiet)}")
    if deal.past_close:
        facts.append("past its close date")
    block = section(f"{_deal_title(deal)}\n{' · '.join(facts)}")
    block.block_id = f"digest_deal_{deal.deal_id}"
    if deal.crm_url:
        block.accessory = ButtonElement(
            text="Open in CRM", action_id=OPEN_IN_CRM, url=deal.crm_url, value=str(deal.deal_id)
        )
    return block


def _stale(digest: TeamDigest) -> list[Block]:
    deals = digest.stale_deals[:MAX_STALE]
    if not deals:
        return [section("*Stale deals worth a call* · None: every open deal has had activity.")]
    title = "*Stale deals worth a call* · open deals that have gone quiet"
    return [section(title), *map(_deal_block, deals)]


def _mover(mover: Mover, versus: str = "") -> str:
    """ "Jane Doe — Won $80,000 (▲ 300% vs the week before)"."""
    text = (
        f"{mover.subject} — {KPI_BY_KEY[mover.key].label} {f.format_kpi(mover.key, mover.current)}"
    )
    change = _change(mover.key, mover.current, mover.previous)
    if change is None:
        return text
    return f"{text} ({change} {versus})" if versus else f"{text} ({change})"


def _movers(digest: TeamDigest) -> list[Block]:
    if not digest.movers:
        return []
    versus = compared_with(digest.period)
    rows = [f"• {_mover(mover, versus)}" for mover in digest.movers[:MAX_MOVERS]]
    return [section("\n".join(["*What changed*", *rows]))]


def _held(digest: TeamDigest) -> list[Block]:
    """The recipient's own nudges the daily budget held back, one fact a line."""
    held = digest.held_nudges
    if not held:
        return []
    rows = [f"• {nudge.fact}" for nudge in held[:MAX_HELD]]
    if len(held) > MAX_HELD:
        rows.append(f"…and {len(held) - MAX_HELD} more")
    return [section("\n".join(["*Held back from your nudges*", *rows]))]


def _summary(digest: TeamDigest) -> str:
    """One line: won in the period and its change, the quarter's pace, the biggest news."""
    won, before = digest.kpis.get("won_amount"), digest.previous.get("won_amount")
    noun, versus = period_noun(digest.period), compared_with(digest.period)
    if not digest.kpis.get("won_count") and not won:
        text = f"*Nothing won* in {noun}"
        if before:
            text += f" ({f.money(before)} {versus.removeprefix('vs ')})"
    else:
        deals = f.plural(digest.kpis.get("won_count"), "deal")
        change = _change("won_amount", won, before)
        text = f"*{f.money(won)} won* in {noun} ({deals}"
        text += f", {change} {versus})" if change else ")"
    text += f" · quarter to date *{_pace_words(digest)}*"
    if digest.movers:
        text += f" · biggest news: {_mover(digest.movers[0])}"
    return text + "."


def _empty(digest: TeamDigest) -> SectionBlock:
    noun = period_noun(digest.period)
    text = (
        f"*A quiet {period_unit(digest.period)}.* No deals closed, no new leads "
        f"and no activity logged in {noun} ({period_span(digest.period)})."
    )
    qtd = digest.quarter_to_date
    if qtd.get("won_amount") or qtd.get("quota_attainment") is not None:
        text += f"\nQuarter to date: {f.money(qtd.get('won_amount'))} won, {_pace_words(digest)}."
    return section(text)


def _footer(digest: TeamDigest) -> Block:
    zone = digest.recipient.timezone if digest.recipient else digest.period.timezone
    period, quarter = digest.period, digest.quarter
    return context(
        f"Computed {slack_time(digest.computed_at, zone)}",
        f"{period_unit(period).capitalize()}: {period_span(period)} · "
        f"quarter {inner_label(quarter)}: {period_span(quarter)}",
        "How each number is defined: `/kpi help`",
    )


def digest_title(digest: TeamDigest) -> str:
    """The header: "NA East · week of Nov 23"."""
    return f"{digest.team} · {period_title(digest.period)}"


def digest_text(digest: TeamDigest) -> str:
    """The plain-text fallback (notifications and clients without blocks)."""
    title = digest_title(digest)
    if digest.is_empty:
        return f"{title}: a quiet {period_unit(digest.period)}, nothing closed"
    won = digest.kpis.get("won_amount")
    text = f"{title}: {f.money(won)} won, quarter to date {_pace_words(digest)}"
    if digest.behind_pace:
        text += f", {f.plural(len(digest.behind_pace), _unit(digest))} behind pace"
    return clip(text, MAX_SECTION_TEXT)


def digest_blocks(digest: TeamDigest, *, chart_note: str | None = None) -> list[Block]:
    """The digest's blocks, in reading order, at most 50."""
    blocks: list[Block] = [header(digest_title(digest))]
    if digest.is_empty:
        blocks.append(_empty(digest))
        if digest.stale_deals:
            blocks += [divider(), *_stale(digest)]
    else:
        blocks += [section(_summary(digest)), divider(), _headline(digest)]
        blocks += [_quarter_section(digest), divider(), *_leaderboard(digest)]
        blocks += [_behind_pace(digest), divider(), _sla(digest), divider(), *_stale(digest)]
        if movers := _movers(digest):
            blocks += [divider(), *movers]
    if held := _held(digest):
        blocks += [divider(), *held]
    if chart_note:
        blocks.append(context(f":warning: {chart_note}"))
    blocks.append(_footer(digest))
    return guard(blocks)


def digest_message(digest: TeamDigest, *, chart_note: str | None = None) -> SlackMessage:
    """The digest as one Slack message: fallback text and Block Kit JSON."""
    return SlackMessage.of(digest_text(digest), digest_blocks(digest, chart_note=chart_note))
