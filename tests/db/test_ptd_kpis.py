"""A running period against the same point of the previous one (in /kpi and the digest); the
forecast /forecast uses, and the digest's weighted pipeline closing in the quarter.

Hand-computed org (time zone UTC), one rep Ann with a quota of 100,000 in 2026-Q2 and 2026-Q3.
Now is 2026-08-30 12:00: day 61 of 2026-Q3 (60.5 days elapsed), so the same point of 2026-Q2
is 2026-05-31 12:00.

2026-Q2: won 50,000 (Apr 20) and 32,000 (Jun 20, after the point); lost 5,000 (Jun 10, after).
Leads: answered in 10 min (May 1) and in 60 min (Jun 15, after). Commit forecasts for Q2:
60,000 submitted Mar 25 (before Q2: the one accuracy uses) and 90,000 on May 10.
2026-Q3 so far: won 30,000 (Jul 15) and 10,000 (Aug 20); open 20,000 in Proposal (0.5)
expected Sep 15 and 40,000 in Proposal expected Nov 15 (next quarter). One lead answered in
20 min (Aug 3). Week of Monday 2026-08-31: three prospect meetings on Monday.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli.kpi import kpi_rows
from commands.base import run_command
from commands.digest import digest_message
from commands.kit.reply import CommandContext
from commands.kit.text import reply_as_text
from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import (
    Activity,
    ActivityType,
    Deal,
    Forecast,
    Lead,
    Outcome,
    Quota,
    Rep,
    Stage,
    Team,
)
from salesops_core.digest.content import build_team_digest
from salesops_core.digest.export import digest_json
from salesops_core.digest.facts import TeamDigest
from salesops_core.digest.regions import build_scope_digest
from salesops_core.errors import BadArguments
from salesops_core.kpi.engine import compute_report, finite_values
from salesops_core.kpi.explain import explain
from salesops_core.kpi.views import forecast_vs_won
from salesops_core.org.access import Viewer, viewer_for_rep
from salesops_core.org.scopes import ORG_SCOPE, rep_scope, team_scope
from salesops_core.periods import parse_period

ORG = OrgConfig()
DAY_61 = datetime(2026, 8, 30, 12, tzinfo=UTC)
FIRST_OF_SEPTEMBER = datetime(2026, 9, 1, 0, 30, tzinfo=UTC)
TUESDAY = datetime(2026, 9, 1, 7, 12, tzinfo=UTC)  # 1.3 days into the week of Aug 31


def t(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def ann(session: Session) -> Viewer:
    team = Team(name="West", region="Americas")
    rep = Rep(name="Ann Archer", email="ann@example.com", team=team)
    session.add_all([team, rep])
    session.add_all(
        [
            Stage(name="Proposal", sort_order=1, probability=0.5),
            Stage(name="Closed Won", sort_order=2, probability=1.0, outcome=Outcome.WON),
            Stage(name="Closed Lost", sort_order=3, probability=0.0, outcome=Outcome.LOST),
        ]
    )
    session.flush()
    for start, end in ((t(4, 1, 0), t(7, 1, 0)), (t(7, 1, 0), t(10, 1, 0))):
        session.add(Quota(rep_id=rep.id, period_start=start, period_end=end, amount=100_000))
    won, lost, open_ = Outcome.WON, Outcome.LOST, Outcome.OPEN
    deals = [
        ("W1", 50_000, "Closed Won", won, t(3, 1), t(4, 20), None),
        ("W2", 32_000, "Closed Won", won, t(4, 1), t(6, 20), None),
        ("L1", 5_000, "Closed Lost", lost, t(4, 1), t(6, 10), None),
        ("W3", 30_000, "Closed Won", won, t(6, 1), t(7, 15), None),
        ("W4", 10_000, "Closed Won", won, t(7, 1), t(8, 20), None),
        ("O1", 20_000, "Proposal", open_, t(7, 10), None, t(9, 15)),
        ("O2", 40_000, "Proposal", open_, t(7, 10), None, t(11, 15)),
    ]
    for external_id, amount, stage, outcome, created, closed, expected in deals:
        session.add(
            Deal(external_id=external_id, owner=rep, amount=amount, stage=stage,
                 outcome=outcome, created_at=created, closed_at=closed, expected_close=expected)
        )  # fmt: skip
    for external_id, created, minutes in (
        ("A", t(5, 1), 10),
        ("B", t(6, 15), 60),
        ("C", t(8, 3), 20),
    ):
        session.add(
            Lead(external_id=external_id, owner_id=rep.id, source="web", created_at=created,
                 first_response_at=created + timedelta(minutes=minutes))
        )  # fmt: skip
    for n in range(3):
        session.add(
            Activity(external_id=f"M{n}", rep_id=rep.id, type=ActivityType.MEETING,
                     started_at=t(8, 31, 9 + n), minutes=30, external_attendee=True)
        )  # fmt: skip
    for amount, submitted in ((60_000, t(3, 25)), (90_000, t(5, 10))):
        session.add(
            Forecast(rep_id=rep.id, period_start=t(4, 1, 0), period_end=t(7, 1, 0), amount=amount,
                     category="commit", submitted_at=submitted)
        )  # fmt: skip
    session.commit()
    return viewer_for_rep(rep)


def report(session: Session, viewer: Viewer, word: str, now: datetime):
    rep = session.get(Rep, viewer.rep_id)
    period = parse_period(word, tz=ORG.tz, now=now)
    return compute_report(session, rep_scope(rep), period, ORG, (SlaPolicy(),), now=now)


def ask(session: Session, viewer: Viewer, line: str, now: datetime) -> str:
    command, _, text = line.partition(" ")
    context = CommandContext(org=ORG, sla=(SlaPolicy(),), now=now, charts=False)
    reply = run_command(session, viewer, command, text, context)
    reply.blocks_json()
    return reply_as_text(reply)


def test_day_61_is_compared_with_day_61_of_the_previous_quarter(
    session: Session, ann: Viewer
) -> None:
    result = report(session, ann, "this-quarter", DAY_61)
    before = result.previous
    assert before["won_amount"] == 50_000  # not the whole quarter's 82,000
    assert before["quota_attainment"] == pytest.approx(0.5)  # of the whole Q2 quota
    assert (before["won_count"], before["lost_count"]) == (1, 0)  # L1 closed after the point
    assert before["lead_response_minutes_median"] == pytest.approx(10)  # lead B came later
    data = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert data["previous_period"] == {
        "start": "2026-04-01T00:00:00+00:00",
        "end": "2026-05-31T12:00:00+00:00",
        "label": "2026-Q2",
        "to_date": True,
    }
    assert data["previous"]["won_amount"] == 50_000


def test_kpi_text_says_same_point_and_shows_the_to_date_change(
    session: Session, ann: Viewer
) -> None:
    text = ask(session, ann, "/kpi", DAY_61)
    assert "Won: $40,000 · ▼ 20% vs same point last quarter" in text  # 40,000 vs 50,000
    assert "Quota attainment: 40% · ▼ 10 pts vs same point last quarter" in text
    assert "▼ 51%" not in text  # the whole of Q2 (82,000) is not the comparison


def test_a_closed_quarter_is_still_compared_with_the_whole_one_before(
    session: Session, ann: Viewer
) -> None:
    result = report(session, ann, "last-quarter", DAY_61)
    assert result.to_json()["previous_period"]["to_date"] is False
    text = ask(session, ann, "/kpi last-quarter", DAY_61)
    assert "Won: $82,000 · ▲ $82,000 vs last quarter" in text  # Q1: nothing won


def test_the_first_of_the_month_shows_no_change_from_half_an_hour(
    session: Session, ann: Viewer
) -> None:
    text = ask(session, ann, "/kpi this-month", FIRST_OF_SEPTEMBER)
    assert "Won: $0" in text
    assert "▼ 100%" not in text and "vs same point last month" not in text
    assert "too early in the month to compare" in text
    assert report(session, ann, "this-month", FIRST_OF_SEPTEMBER).previous["won_amount"] == 0


def test_this_week_on_day_one_has_no_meetings_rate(session: Session, ann: Viewer) -> None:
    result = report(session, ann, "this-week", TUESDAY)
    assert result.kpis["meetings_per_rep_per_week"] is None  # not 3 / (1.3 / 7) = 16.2
    text = ask(session, ann, "/kpi this-week", TUESDAY)
    assert "Meetings / rep / week: — (too early in the week)" in text
    assert "16.2" not in text


def _money(text: str, label: str) -> float:
    match = re.search(rf"{label}: \$([\d,]+)", text)
    assert match, f"{label!r} not in {text}"
    return float(match[1].replace(",", ""))


def test_forecast_of_a_closed_quarter_shows_the_forecast_its_accuracy_uses(
    session: Session, ann: Viewer
) -> None:
    text = ask(session, ann, "/forecast last-quarter", DAY_61)
    assert "Won: $82,000" in text and "Won so far" not in text
    assert "Forecast used for accuracy (2026-Q2): $60,000 (submitted 2026-03-25)" in text
    assert "Forecast accuracy (2026-Q2): 73%" in text  # 1 - |60,000 - 82,000| / 82,000
    forecast, won = _money(text, r"Forecast used for accuracy \(2026-Q2\)"), _money(text, "Won")
    shown = int((1 - abs(forecast - won) / won) * 100)
    assert f"Forecast accuracy (2026-Q2): {shown}%" in text


def test_forecast_of_a_running_quarter_weights_only_what_closes_in_it(
    session: Session, ann: Viewer
) -> None:
    text = ask(session, ann, "/forecast", DAY_61)
    assert "Won so far: $40,000" in text
    assert "Weighted pipeline closing in 2026-Q3: $10,000" in text  # O2 closes in Q4
    assert "Won + weighted: $50,000" in text
    assert "Forecast used for accuracy (2026-Q2): $60,000 (submitted 2026-03-25)" in text
    assert "Forecast accuracy (2026-Q2): 73%" in text


def test_meetings_this_week_on_day_one_says_it_is_too_early(session: Session, ann: Viewer) -> None:
    text = ask(session, ann, "/meetings this-week", TUESDAY)
    assert "Meetings held: 3" in text
    assert "Per week: — (too early in the week)" in text


def west_digest(session: Session, word: str, now: datetime) -> TeamDigest:
    team = session.scalars(select(Team)).one()
    return build_team_digest(session, team, parse_period(word, tz=ORG.tz, now=now), ORG, [], now)


def test_a_running_digest_compares_with_the_same_point_of_the_period_before(
    session: Session, ann: Viewer
) -> None:
    digest = west_digest(session, "this-quarter", DAY_61)
    team = session.scalars(select(Team)).one()
    kpi = compute_report(session, team_scope(team), parse_period("this-quarter", tz=ORG.tz,
                         now=DAY_61), ORG, (), now=DAY_61)  # fmt: skip
    assert digest.previous["won_amount"] == 50_000  # not the whole of Q2's 82,000
    assert digest.previous == finite_values(kpi.previous)
    assert digest.previous_period.end == datetime(2026, 5, 31, 12, tzinfo=UTC)
    data = digest_json(digest)
    assert data["previous_period"]["end"] == "2026-05-31T12:00:00+00:00"
    text = json.dumps(digest_message(digest).blocks)
    assert "*The quarter so far* vs the same point of the quarter before" in text
    assert "vs the quarter before" not in text


def test_the_digest_weights_the_pipeline_closing_in_the_quarter_as_forecast_does(
    session: Session, ann: Viewer
) -> None:
    team = session.scalars(select(Team)).one()
    digest = west_digest(session, "last-week", DAY_61)
    quarter = parse_period("this-quarter", tz=ORG.tz, now=DAY_61)
    shown = forecast_vs_won(session, team_scope(team), quarter, ORG, (), DAY_61)
    assert digest.forecast.weighted_pipeline == shown.weighted_pipeline == 10_000  # not O2's
    org_digest = build_scope_digest(session, ORG_SCOPE, quarter, ORG, (), DAY_61)
    assert org_digest.forecast.weighted_pipeline == 10_000
    text = json.dumps(digest_message(digest).blocks)
    assert "*Weighted pipeline closing in 2026-Q3*\\n$10,000" in text
    assert "Weighted pipeline closing in 2026-Q3: $10,000" in ask(session, ann, "/forecast", DAY_61)
    ended = west_digest(session, "last-quarter", DAY_61)  # Q2 is over: nothing left to close
    assert ended.forecast.weighted_pipeline is None
    assert "Weighted pipeline" not in json.dumps(digest_message(ended).blocks)


def test_forecast_accuracy_waits_until_the_period_ends(session: Session, ann: Viewer) -> None:
    session.add(
        Forecast(rep_id=ann.rep_id, period_start=t(7, 1, 0), period_end=t(10, 1, 0),
                 amount=100_000, category="commit", submitted_at=t(6, 25))
    )  # fmt: skip
    session.commit()
    running = report(session, ann, "this-quarter", DAY_61)
    assert running.kpis["forecast_accuracy"] is None  # not 1 - |100,000 - 40,000| / 40,000
    assert running.why_undefined("forecast_accuracy") == "until the period ends"
    assert running.to_json()["kpis"]["forecast_accuracy"] is None
    rows = {row[0]: row for row in kpi_rows(running)}
    assert rows["Forecast accuracy"][1:] == ("—", "—", "until the period ends")
    assert "Forecast accuracy: — (until the period ends)" in ask(session, ann, "/kpi", DAY_61)
    why = explain(session, "forecast_accuracy", running.scope, running.period, ORG, now=DAY_61)
    assert why.value is None and any("until the period ends" in c for c in why.choices)
    after = report(session, ann, "2026-Q3", datetime(2026, 10, 2, tzinfo=UTC))
    assert after.kpis["forecast_accuracy"] == pytest.approx(1 - 60_000 / 40_000)
    assert after.why_undefined("forecast_accuracy") is None


def test_forecast_names_the_quarter_its_accuracy_forecast_is_for(
    session: Session, ann: Viewer
) -> None:
    text = ask(session, ann, "/forecast", DAY_61)  # 2026-Q3 runs: accuracy is Q2's
    assert "Forecast used for accuracy (2026-Q2): $60,000 (submitted 2026-03-25)" in text


def test_forecast_of_the_next_quarter_says_accuracy_waits_for_the_running_one(
    session: Session, ann: Viewer
) -> None:
    text = ask(session, ann, "/forecast 2026-Q4", DAY_61)  # judged: 2026-Q3, still running
    assert "Forecast accuracy (2026-Q3): — (until 2026-Q3 ends)" in text


def test_forecast_footer_says_what_the_range_and_the_weighted_pipeline_are(
    session: Session, ann: Viewer
) -> None:
    text = ask(session, ann, "/forecast", DAY_61)
    assert "P10-P90: won should land in this range about 8 times in 10" in text
    assert "/kpi's weighted pipeline counts every open deal" in text


def test_forecast_submit_with_an_unknown_quarter_word_says_what_plain_submit_chooses(
    session: Session, ann: Viewer
) -> None:
    with pytest.raises(BadArguments) as error:
        ask(session, ann, "/forecast submit next-quarter", DAY_61)
    message = str(error.value)
    assert "`this-quarter`?." not in message  # one mark ends the sentence
    assert "plain `/forecast submit` chooses 2026-Q4" in message  # the next quarter
