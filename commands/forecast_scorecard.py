"""/forecast scorecard [@rep | team] [quarter]: how accurate and how biased someone's forecasts
were over the last closed quarters; plain sentences first, then the table. Always private.

The same blocks are what the bot sends each rep and manager after a quarter closes
(`scorecard_message`, the outbox's forecast scorecard notice).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from commands.kit.args import bad, default_scope, parse_args, viewer_scope
from commands.kit.blocks import code_sections, context, header, section
from commands.kit.message import SlackMessage
from commands.kit.reply import CommandContext, Reply
from salesops_core.errors import BadArguments, UnknownPeriod
from salesops_core.forecast.accuracy import (
    CLEAR_QUARTERS,
    DEFAULT_QUARTERS,
    QuarterCall,
    RepScorecard,
    TeamScorecard,
    rep_scorecard,
    team_scorecard,
)
from salesops_core.forecast.notices import ScorecardNotice
from salesops_core.forecast.submissions import forecast_quarter
from salesops_core.kpi import format as f
from salesops_core.kpi.views import recent_periods
from salesops_core.org.access import Viewer, require_view
from salesops_core.org.views import rep_label
from salesops_core.periods import Period

COMMAND = "/forecast"
NAME_WIDTH = 18
NAMES_SHOWN = 5  # reps named per lean in a team's sentences; the table lists them all
DEFINITIONS = (
    "Accuracy: 1 - |commit - won| / won. Bias: (commit - won) / won; below 0 the quarter was "
    "under-called (won came in above the commit), above 0 over-called. Commit: the last one "
    "submitted before the quarter's cut-off."
)
PRIVATE = "Only you, your manager and sales-ops admins see this."
TEAM_PRIVATE = "Only the team's manager and sales-ops admins see this."
LEAN_MEANING = {
    "under": "won came in above the commit (sandbagging)",
    "over": "the commit was above what was won (optimistic)",
}
TEAM_HINT = "`/forecast scorecard team` shows your team's."
OTHERS_HINT = "Name whose to see: `/forecast scorecard` and a team's name, or a rep's @mention."
SHARE_REFUSED = (
    "A forecast scorecard is private: `share` would post it where others can read it. "
    "Ask again without `share`."
)


def signed_pct(value: float | None) -> str:
    """A bias as a percentage with its sign: `+12%`, `-18%`, `0%`, "—"."""
    text = f.pct(value)
    return f"+{text}" if value is not None and value > 0 and text != "0%" else text


def _called(word: str, calls: Sequence[QuarterCall], by: float | None, of: str = "") -> str:
    """ "Under-called 3 of 4 quarters, by 18% on average" or "over-called 2026-Q1 by 52%"."""
    names = [c.quarter for c in calls]
    listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
    which = f"{len(calls)} of {of}" if of else listed
    comma = "," if of or len(calls) > 1 else ""
    return f"{word} {which}{comma} by {f.pct(by)}{' on average' if len(calls) > 1 else ''}"


def lean_sentence(card: RepScorecard) -> str:
    """The quarters called each way and, when the lean is clear (`Lean.clear`), its name; the
    verdict quotes the table's average bias, so one big miss the other way is never hidden:
    "Under-called 3 of 4 quarters, by 10% on average; over-called 2026-Q1 by 52%. No clear
    lean: bias +5.3% on average." """
    lean, shown = card.lean, len(card.calls)
    if not lean.judged:
        return (
            f"No quarter to judge in the last {f.plural(shown, 'quarter')}: a quarter counts once "
            "a commit was submitted before its cut-off and something was won in it."
        )
    of = f.plural(lean.judged, "quarter")
    if lean.judged < shown:
        of += f" with a commit and a win (of {shown} shown)"
    if not lean.under and not lean.over:
        return f"On the number (commit = won) in {of}."
    unders = [c for c in card.calls if c.bias is not None and c.bias < 0]
    overs = [c for c in card.calls if c.bias is not None and c.bias > 0]
    sides = [("Under-called", unders, lean.under_by), ("Over-called", overs, lean.over_by)]
    if lean.over > lean.under:
        sides.reverse()
    (word, calls, by), (other, other_calls, other_by) = sides
    text = _called(word, calls, by, of)
    if other_calls:
        text += f"; {_called(other.lower(), other_calls, other_by)}. "
        if lean.clear is None:
            return text + f"No clear lean: bias {signed_pct(card.mean_bias)} on average."
        return text + (
            f"On balance {LEAN_MEANING[lean.clear]}: bias {signed_pct(card.mean_bias)} on average."
        )
    if lean.clear is not None:
        return f"{text}: {LEAN_MEANING[lean.clear]}."
    if lean.judged < CLEAR_QUARTERS:
        return f"{text}: one quarter is too few to call a lean."
    return f"{text}: close to the number, no clear lean."


def accuracy_sentence(card: RepScorecard) -> str:
    """ "Accuracy 86% on average, improving: from 80% in 2026-Q1 to 95% in 2026-Q4." """
    if card.mean_accuracy is None:
        return ""
    text = f"Accuracy {f.pct(card.mean_accuracy)} on average"
    if card.trend is None:
        return text + "."
    judged = [c for c in card.calls if c.accuracy is not None]
    first, last = judged[0], judged[-1]
    return (
        f"{text}, {card.trend}: from {f.pct(first.accuracy)} in {first.quarter} to "
        f"{f.pct(last.accuracy)} in {last.quarter}."
    )


def best_case_sentence(card: RepScorecard) -> str:
    """ "Won landed between commit and best case in 1 of 2 quarters with a best case." """
    hits, given = card.best_case_hits
    if not given:
        return ""
    return (
        f"Won landed between commit and best case in {hits} of "
        f"{f.plural(given, 'quarter')} with a best case."
    )


def last_quarter_sentence(call: QuarterCall) -> str:
    """ "2026-Q4: commit $95,000, won $100,000: accuracy 95%, bias -5%." """
    if call.commit is None:
        return f"{call.quarter}: no commit before the cut-off; won {f.money(call.won, exact=True)}."
    text = (
        f"{call.quarter}: commit {f.money(call.commit, exact=True)}, won "
        f"{f.money(call.won, exact=True)}"
    )
    if call.accuracy is None:
        return text + " (nothing won: no accuracy)."
    return f"{text}: accuracy {f.pct(call.accuracy)}, bias {signed_pct(call.bias)}."


def rep_sentences(card: RepScorecard) -> list[str]:
    """The scorecard in plain sentences: the lean, accuracy and its trend, best case, last
    quarter."""
    lines = [
        lean_sentence(card),
        accuracy_sentence(card),
        best_case_sentence(card),
        last_quarter_sentence(card.calls[-1]),
    ]
    return [line for line in lines if line]


def rep_table(card: RepScorecard) -> list[str]:
    """Per quarter: commit, best case, won, accuracy and bias; then the averages."""
    lines = [f"{'Quarter':<8} {'Commit':>9} {'Best':>9} {'Won':>9} {'Accur.':>7} {'Bias':>6}"]
    for c in card.calls:
        lines.append(
            f"{c.quarter:<8} {f.money(c.commit):>9} {f.money(c.best_case):>9} "
            f"{f.money(c.won):>9} {f.pct(c.accuracy):>7} {signed_pct(c.bias):>6}"
        )
    lines.append(
        f"{'Average':<8} {'':>9} {'':>9} {'':>9} {f.pct(card.mean_accuracy):>7} "
        f"{signed_pct(card.mean_bias):>6}"
    )
    return lines


def _span(calls: Sequence[Any]) -> str:
    return f"{calls[0].quarter} to {calls[-1].quarter}" if len(calls) > 1 else calls[0].quarter


def rep_blocks(card: RepScorecard, *, own: bool, intro: str = "") -> list[Any]:
    """A rep's scorecard: header, sentences, table, definitions."""
    whose = "Your" if own else f"{rep_label(card.name, card.active)}:"
    text = "\n".join([intro, *rep_sentences(card)] if intro else rep_sentences(card))
    return [
        header(f"{whose} forecast scorecard · {_span(card.calls)}"),
        section(text),
        *code_sections(rep_table(card), max_sections=1),
        context(DEFINITIONS, PRIVATE),
    ]


def _lean_word(card: RepScorecard) -> str:
    lean = card.lean
    if not lean.judged:
        return f.NA
    if lean.under > lean.over:
        return f"{lean.under}/{lean.judged} under"
    if lean.over > lean.under:
        return f"{lean.over}/{lean.judged} over"
    return "mixed" if lean.under else "on target"


def team_sentences(card: TeamScorecard) -> list[str]:
    """The team in sentences: the last quarter's two numbers and what they mean, who leans."""
    if not card.quarters:
        return [f"No reps with forecasts on {card.team}."]
    last = card.quarters[-1]
    lines = [
        f"{last.quarter}: team accuracy {f.pct(last.accuracy)} on the sum of "
        f"{f.plural(last.forecasters, 'rep')}' commits ({f.money(last.commit, exact=True)} "
        f"committed, {f.money(last.won, exact=True)} won); MAPE {f.pct(last.mape)} across "
        f"{f.plural(last.judged, 'rep')}.",
        "Accuracy on the sum lets one rep's miss cancel another's; MAPE, the mean of each rep's "
        "own error, does not.",
    ]
    for side, words in (
        ("under", "Sandbagging (under-called most quarters"),
        ("over", "Optimistic (over-called most quarters"),
    ):
        leaning = [c for c in card.reps if c.lean.clear == side]
        if leaning:  # a clear lean only (`Lean.clear`), the biggest average bias first
            ranked = sorted(leaning, key=lambda c: -abs(c.mean_bias or 0.0))
            names = ", ".join(f"{c.name} {signed_pct(c.mean_bias)}" for c in ranked[:NAMES_SHOWN])
            more = f" and {len(ranked) - NAMES_SHOWN} more" if len(ranked) > NAMES_SHOWN else ""
            lines.append(f"{words}; average bias): {names}{more}.")
    silent = [c.name for c in card.reps if all(call.commit is None for call in c.calls)]
    if silent:
        lines.append(f"No commit before the cut-off in any of these quarters: {', '.join(silent)}.")
    return lines


def team_tables(card: TeamScorecard) -> list[str]:
    """Per quarter the team's accuracy on the sum and MAPE; then per rep their averages."""
    lines = [f"{'Quarter':<8} {'Commit':>9} {'Won':>9} {'Accur.':>7} {'MAPE':>6} {'Reps':>4}"]
    for q in card.quarters:
        lines.append(
            f"{q.quarter:<8} {f.money(q.commit):>9} {f.money(q.won):>9} {f.pct(q.accuracy):>7} "
            f"{f.pct(q.mape):>6} {q.judged:>4}"
        )
    lines += ["", f"{'Rep':<{NAME_WIDTH}} {'Accur.':>7} {'Bias':>6} {'Lean':>9} {'Trend':>9}"]
    for rep in card.reps:
        mark = rep_label("", rep.active)
        name = rep.name[: NAME_WIDTH - len(mark)] + mark
        lines.append(
            f"{name:<{NAME_WIDTH}} {f.pct(rep.mean_accuracy):>7} {signed_pct(rep.mean_bias):>6} "
            f"{_lean_word(rep):>9} {rep.trend or f.NA:>9}"
        )
    return lines


def team_blocks(card: TeamScorecard, *, intro: str = "") -> list[Any]:
    """A team's scorecard: header, sentences, the tables, definitions."""
    sentences = team_sentences(card)
    span = _span(card.quarters) if card.quarters else ""
    return [
        header(f"{card.team}: forecast scorecard · {span}".rstrip(" ·")),
        section("\n".join([intro, *sentences] if intro else sentences)),
        *code_sections(team_tables(card), max_sections=2),
        context(
            "Team accuracy: 1 - |sum of commits - won| / won, over the reps with a commit "
            "(as /kpi's forecast accuracy). MAPE: the mean of |commit - won| / won over the reps "
            "with a commit and a win (Reps: how many). Rep columns: averages over the quarters "
            "shown.",
            DEFINITIONS,
            TEAM_PRIVATE,
        ),
    ]


def _quarters(args_period: Period, ctx: CommandContext) -> list[Period]:
    """The closed quarters up to the named one (default: the last closed quarter)."""
    try:
        latest = forecast_quarter(args_period, ctx.org, "scorecards")
    except UnknownPeriod as error:
        raise bad(COMMAND, f"{error}.") from None
    if args_period.end > ctx.current_time():
        raise bad(
            COMMAND,
            f"{args_period.label} has not ended yet; the scorecard covers closed quarters.",
        )
    return recent_periods(latest, DEFAULT_QUARTERS)


def handle(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer `/forecast scorecard [@rep | team] [quarter]` (the text after `scorecard`); with
    no one named, a manager's team (as their other commands), anyone else's own."""
    first = default_scope(session, viewer)
    args = parse_args(
        session, viewer, COMMAND, text, ctx,
        default_scope=first if first.kind == "team" else viewer_scope(viewer),
        default_period="last-quarter",
    )  # fmt: skip
    if args.share:
        raise BadArguments(SHARE_REFUSED)
    if args.scope.kind not in ("rep", "team"):
        raise bad(COMMAND, f"A scorecard is for one rep or one team, not {args.scope.name}.")
    require_view(session, viewer, args.scope)
    quarters = _quarters(args.period, ctx)
    if args.scope.kind == "team":
        team = team_scorecard(session, args.scope, ctx.org, quarters)
        return Reply(f"{team.team}: forecast scorecard", team_blocks(team))
    card = rep_scorecard(session, args.scope, ctx.org, quarters)
    own = card.rep_id == viewer.rep_id
    blocks = rep_blocks(card, own=own)
    if own and not card.lean.judged and (viewer.is_manager or viewer.is_admin):
        blocks.insert(2, context(OTHERS_HINT if viewer.team_id is None else TEAM_HINT))
    return Reply(f"{'Your' if own else card.name + ':'} forecast scorecard", blocks)


def scorecard_message(notice: ScorecardNotice) -> SlackMessage:
    """The scorecard the bot sends after a quarter closes: a rep's own, or a manager's team."""
    intro = f"*{notice.quarter} has closed.* How the forecasts compared with what was won:"
    if notice.team is not None:
        blocks = team_blocks(notice.team, intro=intro)
        return SlackMessage.of(
            f"{notice.team.team}: forecast scorecard after {notice.quarter}", blocks
        )
    assert notice.rep is not None
    blocks = rep_blocks(notice.rep, own=True, intro=intro)
    return SlackMessage.of(f"Your forecast scorecard after {notice.quarter}", blocks)
