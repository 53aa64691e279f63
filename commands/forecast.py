"""/forecast [period] [@rep | team]: last submitted forecast vs won, weighted pipeline, quota,
the latest submission (a team's: the manager's team call), and the accuracy of the last closed
period with the forecast it was measured on. `/forecast submit [quarter] [team [name]]` asks
for the form that submits one (in Slack, the bot opens it as a modal)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from commands import forecast_scorecard
from commands.forecast_modal import ForecastForm
from commands.kit.args import OWN_TEAM_WORDS, bad, parse_and_check, tokenize
from commands.kit.blocks import context, field_sections, header, section
from commands.kit.common import default_scope_note, footer, title
from commands.kit.reply import CommandContext, Reply
from salesops_core.db.models import Team
from salesops_core.digest.words import inner_label, weighted_closing_label
from salesops_core.errors import UnknownPeriod
from salesops_core.forecast.model import ModelForecast, forecast
from salesops_core.forecast.submissions import (
    Submission,
    check_team_call,
    default_quarter,
    latest_submission,
    open_quarters,
    quarter_named,
)
from salesops_core.kpi import format as f
from salesops_core.kpi.views import ForecastVsWon, forecast_vs_won
from salesops_core.org.access import Viewer
from salesops_core.org.lookup import find_named
from salesops_core.periods import Period, looks_like_period, period_suggestion

SUBMIT_WORD = "submit"
SCORECARD_WORD = "scorecard"


def is_submit(text: str) -> bool:
    """True when the /forecast text asks to submit a forecast (`submit` among its words)."""
    return any(word.lower() == SUBMIT_WORD for word in tokenize(text))


def _team_for_call(session: Session, viewer: Viewer, name: str) -> int:
    """The id of the team a team call is for: the viewer's own, or the one `name` names."""
    if not name:
        if viewer.team_id is None:
            raise bad(
                "/forecast", "You are not on a team; name it: `/forecast submit team NA East`."
            )
        return viewer.team_id
    named = find_named(session, name)
    if not isinstance(named, Team):
        raise bad("/forecast", f'"{name}" is not a team; a team call is for a team.')
    return named.id


def submit_form(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> ForecastForm:
    """What `/forecast submit [quarter] [team [name]]` offers: the running and the next quarter
    (and the one named), chosen the named one or `default_quarter`; for `team`, the team call of
    the viewer's team or the named one (its manager or an admin only: NotAllowed otherwise)."""
    now, org = ctx.current_time(), ctx.org
    words = [w for w in tokenize(text) if w.lower() != SUBMIT_WORD]
    periods = [w for w in words if looks_like_period(w) or period_suggestion(w)]
    rest = [w for w in words if w not in periods]
    if len(periods) > 1:
        raise bad("/forecast", f'Give one quarter, not both "{periods[0]}" and "{periods[1]}".')
    team_id = team = None
    if rest:
        if rest[0].lower() not in OWN_TEAM_WORDS:
            raise bad(
                "/forecast",
                f'I don\'t understand "{" ".join(rest)}": `/forecast submit` takes a quarter '
                "and `team` (a manager's team call).",
            )
        team_id = _team_for_call(session, viewer, " ".join(rest[1:]))
        team = check_team_call(session, viewer, team_id)
    try:
        chosen = quarter_named(periods[0], org, now) if periods else default_quarter(now, org)
    except UnknownPeriod as error:
        said = f"{error}" if f"{error}".endswith(("?", ".")) else f"{error}."
        raise bad(
            "/forecast",
            f"{said} Name a quarter (`2027-Q1`, `this-quarter`); plain `/forecast submit` "
            f"chooses {default_quarter(now, org).label}.",
        ) from None
    if chosen.end <= now:
        raise bad("/forecast", f"{chosen.label} has ended; forecast a quarter still to come.")
    quarters: tuple[Period, ...] = open_quarters(now, org)
    if chosen not in quarters:
        quarters = (*quarters, chosen)
    return ForecastForm(quarters=quarters, chosen=chosen, team_id=team_id, team=team)


def _submit_reply(form: ForecastForm) -> Reply:
    """Outside Slack (`salesops ask`), what the form would be for."""
    whose = f"the team call for {form.team}" if form.team else "your commit and best case"
    text = (
        f"`/forecast submit` opens a form in Slack for {whose}: {form.chosen.label} is chosen "
        f"(also offered: {', '.join(p.label for p in form.quarters if p != form.chosen)})."
    )
    return Reply(text, [section(text)])


def _day(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d") if moment else ""


def _accuracy_fields(numbers: ForecastVsWon, tz: tzinfo, group: bool, now: datetime) -> list[str]:
    """The forecast accuracy uses (amount, when submitted) and the accuracy worked out from it
    (none yet while the period it judges runs)."""
    basis, judged = numbers.accuracy_basis, inner_label(numbers.accuracy_period)
    if basis.forecast is None:
        used = f"{f.NA} (none submitted before {judged} began)"
    else:
        when = _day(basis.submitted_at, tz)
        by = f"last submitted {when} by {f.plural(basis.forecasters, 'rep')}"
        used = f"{f.money(basis.forecast, exact=True)} ({by if group else f'submitted {when}'})"
    accuracy = f"*Forecast accuracy ({judged})*\n{f.pct(numbers.accuracy)}"
    if numbers.accuracy is None and numbers.accuracy_period.end > now:
        accuracy += f" (until {judged} ends)"
    if numbers.accuracy is not None and basis.forecast is not None:
        by = f" by the {f.plural(basis.forecasters, 'rep')} who forecast" if group else ""
        won = f.money(basis.won, exact=True)
        accuracy += f"\n_forecast {f.money(basis.forecast, exact=True)} vs won {won}{by}_"
    return [f"*Forecast used for accuracy ({judged})*\n{used}", accuracy]


def _model_field(model: ModelForecast) -> str:
    """The bot's own forecast: its P50 and P10-P90 range, or why it has none."""
    if model.p50 is None or model.p10 is None or model.p90 is None:
        return f"*Bot forecast*\n{f.NA} ({model.training.reason})"
    low, high = f.estimate(model.p10), f.estimate(model.p90)
    return f"*Bot forecast*\n{f.estimate(model.p50)}\n_P10-P90: {low} to {high}_"


def _submission_blocks(
    what: str, latest: Submission, numbers: ForecastVsWon, ctx: CommandContext
) -> list[Any]:
    """The latest submission (or team call): commit, best case, when, by whom for a team call,
    how many there were and the commit before it; a team call next to the reps' commits."""
    tz = ctx.org.tz
    when = latest.submitted_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    by = f" by {latest.submitted_by}" if what == "Team call" else ""
    line = f"*{what}*{by} ({when}): commit {f.money(latest.commit, exact=True)}"
    if latest.best_case is not None:
        line += f", best case {f.money(latest.best_case, exact=True)}"
    if latest.previous_at is not None:
        before = latest.previous_at.astimezone(tz)
        line += (
            f" ({f.ordinal(latest.count)} {'call' if what == 'Team call' else 'submission'}; "
            f"previous commit {f.money(latest.previous_commit, exact=True)} on "
            f"{before:%b} {before.day})"
        )
    if what == "Team call":
        line += f". The reps' own commits add up to {f.money(numbers.forecast, exact=True)}"
    elif latest.commit > 0 and (numbers.running or numbers.weighted_pipeline is None):
        line += f". {f.pct(numbers.won / latest.commit)} of the commit won"  # once it started
    blocks: list[Any] = [section(f"{line}.")]
    if latest.note:
        blocks.append(context(f"Note: {latest.note}"))
    return blocks


def handle(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer /forecast (`submit`: what the submission form offers; `scorecard`: the forecast
    scorecard, `commands.forecast_scorecard`)."""
    words = tokenize(text)
    if words and words[0].lower() == SCORECARD_WORD:
        return forecast_scorecard.handle(session, viewer, text.strip()[len(words[0]) :], ctx)
    if is_submit(text):
        return _submit_reply(submit_form(session, viewer, text, ctx))
    args = parse_and_check(session, viewer, "/forecast", text, ctx)
    now = ctx.current_time()
    numbers = forecast_vs_won(session, args.scope, args.period, ctx.org, ctx.sla, now)
    group = args.scope.kind != "rep"
    open_ = numbers.weighted_pipeline is not None  # the period has not ended
    heading = title("forecast", args, viewer.rep_id)
    won_label = "Won so far" if numbers.running else "Won"
    fields = [
        f"*Last submitted forecast*\n{f.money(numbers.forecast, exact=True)}",
        f"*{won_label}*\n{f.money(numbers.won, exact=True)}",
        f"*Quota*\n{f.money(numbers.quota, exact=True)}",
    ]
    if numbers.weighted_pipeline is not None:
        closing = weighted_closing_label(args.period)
        fields += [
            f"*{closing}*\n{f.money(numbers.weighted_pipeline, exact=True)}",
            f"*Won + weighted*\n{f.money(numbers.won + numbers.weighted_pipeline, exact=True)}",
        ]
        model = forecast(session, args.scope, args.period, now)
        fields.append(_model_field(model))
    fields += _accuracy_fields(numbers, ctx.org.tz, group, now)
    blocks: list[Any] = [header(heading)]
    blocks += field_sections(fields)
    mine = (
        latest_submission(session, args.period, now, rep_id=int(args.scope.key))  # type: ignore[arg-type]
        if args.scope.kind == "rep"
        else None
    )
    if mine is not None:
        blocks += _submission_blocks("Latest submission", mine, numbers, ctx)
    elif numbers.forecast is None:
        blocks.append(section(f"No forecast submitted for this period{' yet' if open_ else ''}."))
    else:
        when = (
            numbers.submitted_at.astimezone(ctx.org.tz).strftime("%Y-%m-%d %H:%M")
            if numbers.submitted_at
            else ""
        )
        who = f" by {f.plural(numbers.forecasters, 'rep')}" if group else ""
        share = (
            f" ({f.pct(numbers.won / numbers.forecast)} of it won)" if numbers.forecast > 0 else ""
        )
        blocks.append(section(f"Forecast last submitted {when}{who}{share}."))
    if args.scope.kind == "team":
        call = latest_submission(session, args.period, now, team_id=int(args.scope.key))  # type: ignore[arg-type]
        if call is not None:
            blocks += _submission_blocks("Team call", call, numbers, ctx)
    if note := default_scope_note(args, "/forecast"):
        blocks.append(note)
    blocks.append(
        footer(
            args.period,
            now,
            f"Forecast: the last commit submitted {'so far' if open_ else 'for the period'}. "
            + (
                "Bot forecast: won so far + each open deal x the chance deals like it won in "
                "past periods + the new business past periods brought (`salesops explain "
                "forecast` lists the deals); P10-P90: won should land in this range about 8 "
                "times in 10 (1 in 10 below P10, 1 in 10 above P90). Weighted pipeline: open "
                "deals expected to close in the period x their probability (/kpi's weighted "
                "pipeline counts every open deal). "
                if open_
                else ""
            )
            + "Accuracy: 1 - |forecast - won| / won, "
            "using the last commit submitted before that period's cut-off.",
        )
    )
    fallback = (
        f"{heading}: forecast {f.money(numbers.forecast)}, "
        f"{won_label.lower()} {f.money(numbers.won)}, quota {f.money(numbers.quota)}"
    )
    if numbers.weighted_pipeline is not None:
        fallback += f", weighted pipeline closing in it {f.money(numbers.weighted_pipeline)}"
    return Reply(fallback, blocks, in_channel=args.share)
