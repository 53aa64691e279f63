"""The digest as a Slack message, from hand-built facts (no database)."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from commands.digest import OPEN_IN_CRM, digest_message
from commands.kit.text import blocks_as_text
from commands.notices import UnreadableNotice, is_file, render, render_file
from salesops_core.digest.facts import (
    ChartFacts,
    DigestChartNotice,
    DigestNotice,
    ForecastFacts,
    Mover,
    PeriodFacts,
    Recipient,
    RepLine,
    Responder,
    SlaFacts,
    StaleDeal,
    TeamDigest,
)
from salesops_core.kpi.registry import KPI_KEYS
from salesops_core.outbox import notice_payload

NY = "America/New_York"
# The week of Mon Nov 23 2026 in New York (UTC-5), computed Monday Nov 30 09:00 local.
WEEK = PeriodFacts(
    "last-week (2026-W48)",
    datetime(2026, 11, 23, 5, tzinfo=UTC),
    datetime(2026, 11, 30, 5, tzinfo=UTC),
    running=False,
    kind="week",
    timezone=NY,
)
WEEK_BEFORE = PeriodFacts(
    "2026-W47",
    datetime(2026, 11, 16, 5, tzinfo=UTC),
    datetime(2026, 11, 23, 5, tzinfo=UTC),
    running=False,
    kind="week",
    timezone=NY,
)
QUARTER = PeriodFacts(
    "2026-Q4",
    datetime(2026, 10, 1, 4, tzinfo=UTC),
    datetime(2027, 1, 1, 5, tzinfo=UTC),
    running=True,
    kind="quarter",
    timezone=NY,
)
COMPUTED = datetime(2026, 11, 30, 14, tzinfo=UTC)


def kpis(**values: Any) -> dict[str, Any]:
    """A full `kpis` mapping: every key undefined (or 0 for the sums) unless given."""
    zero = {"won_amount", "won_count", "lost_count", "open_pipeline_value"}
    zero |= {"weighted_pipeline_value", "leads_unanswered"}
    return {key: values.get(key, 0 if key in zero else None) for key in KPI_KEYS}


def rep(n: int, won: float, attainment: float | None, behind: bool | None, gap: float | None):
    return RepLine(
        rep_id=n,
        name=f"Rep Number {n:02d}",
        won_amount=won,
        quota_attainment=attainment,
        win_rate=0.5,
        meetings_per_week=3.5,
        lead_response_minutes_median=12.0,
        behind_pace=behind,
        pace_gap=gap,
    )


JANE = RepLine(1, "Jane Doe", 80_000.0, 0.42, 0.6667, 4.0, 7.5, True, 18_250.0)
BOB = RepLine(2, "Bob Stone", 40_000.0, 0.9, 0.5, 2.5, 95.0, False, 0.0)
NEW = RepLine(3, "Nia New", 0.0, None, None, None, None, None, None)
ACME = StaleDeal(11, "OPP-11", "Acme renewal", "Acme Corp", "Jane Doe", 45_000.0, 23.0, True,
                 "https://crm.example.com/deals/OPP-11")  # fmt: skip
SLOWEST = [Responder(2, "Bob Stone", 95.0, 2), Responder(3, "Nia New", None, 1)]
CHART = ChartFacts(
    team="NA East", period="2026-W48", expected_attainment=0.6638, attainment=[], stages=[],
    response_edges=[], response_within=[], response_late=[], sla_minutes=None, won_trend=[],
    won_previous=[],
)  # fmt: skip
GLOBEX = StaleDeal(12, "OPP-12", None, "Globex", "Bob Stone", None, 16.0, False, None)


def digest(**changes: Any) -> TeamDigest:
    """A normal week for NA East: two reps with a quota, one new rep."""
    base = TeamDigest(
        team_id=7,
        team="NA East",
        region="North America",
        recipient=Recipient(5, "Freya Moreau", "freya.moreau@example.com", "U0FREYA", NY),
        period=WEEK,
        previous_period=WEEK_BEFORE,
        quarter=QUARTER,
        computed_at=COMPUTED,
        kpis=kpis(
            won_amount=120_000.0, won_count=3, lost_count=2, win_rate=0.6, avg_deal_size=40_000.0,
            avg_sales_cycle_days=31.5, open_pipeline_value=1_250_000.0, pipeline_coverage=2.34,
            lead_response_minutes_median=9.0, lead_sla_met_share=0.8,
            meetings_per_rep_per_week=3.25, selling_time_share=0.4,
        ),
        previous=kpis(
            won_amount=100_000.0, won_count=2, lost_count=2, win_rate=0.5, avg_deal_size=50_000.0,
            avg_sales_cycle_days=35.0, open_pipeline_value=1_300_000.0, pipeline_coverage=2.0,
            lead_response_minutes_median=12.0, lead_sla_met_share=0.9,
            meetings_per_rep_per_week=3.25, selling_time_share=0.4,
        ),
        quarter_to_date=kpis(won_amount=640_000.0, quota_attainment=0.64, won_count=14),
        leaderboard=[JANE, BOB, NEW],
        behind_pace=[JANE],
        sla=SlaFacts(leads=10, met=8, breached=2, unanswered=1, slowest=SLOWEST),
        forecast=ForecastFacts("2026-Q4", 800_000.0, 640_000.0, 310_000.0, 1_000_000.0),
        stale_deals=[ACME, GLOBEX],
        movers=[Mover("Jane Doe", "won_amount", 80_000.0, 20_000.0),
                Mover("NA East", "win_rate", 0.6, 0.5)],
        chart=CHART,
    )  # fmt: skip
    return replace(base, **changes)


def text_of(message) -> str:
    return blocks_as_text(message.blocks)


def sections(message) -> list[dict[str, Any]]:
    return [b for b in message.blocks if b["type"] == "section"]


def section_starting(message, start: str) -> dict[str, Any]:
    [found] = [b for b in sections(message) if b.get("text", {}).get("text", "").startswith(start)]
    return found


def field_texts(block: dict[str, Any]) -> list[str]:
    return [field["text"] for field in block.get("fields", [])]


def assert_within_block_kit_limits(message) -> None:
    assert len(message.blocks) <= 50
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150


def test_header_names_the_team_and_the_week_in_local_dates() -> None:
    message = digest_message(digest())
    assert message.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "NA East · week of Nov 23", "emoji": True},
    }
    assert message.text == (
        "NA East · week of Nov 23: $120,000 won, quarter to date 64% of quota, "
        "66% expected by now, 1 rep behind pace"
    )


def test_summary_line_says_won_its_change_the_pace_and_the_biggest_news() -> None:
    summary = sections(digest_message(digest()))[0]["text"]["text"]
    assert summary == (
        "*$120,000 won* in the week (3 deals, ▲ 20% vs the week before) · quarter to date "
        "*64% of quota, 66% expected by now* · biggest news: Jane Doe — Won $80,000 (▲ 300%)."
    )


def test_a_week_without_wins_says_nothing_won_and_what_the_week_before_brought() -> None:
    quiet = digest(kpis=kpis(lost_count=2), previous=kpis(won_amount=100_000.0, won_count=2))
    message = digest_message(quiet)
    summary = sections(message)[0]["text"]["text"]
    assert summary.startswith("*Nothing won* in the week ($100,000 the week before) · ")
    deals = field_texts(section_starting(message, "*The week*"))[1]
    assert deals == "*Deals won / lost*\n0 won · 2 lost\n_won ▼ 2 · lost ▲ 2_"


def test_deals_that_did_not_change_say_so_once() -> None:
    same = digest(previous=digest().kpis)
    deals = field_texts(section_starting(digest_message(same), "*The week*"))[1]
    assert deals == "*Deals won / lost*\n3 won · 2 lost\n_= no change_"


def test_headline_numbers_carry_the_formatters_values_and_changes() -> None:
    block = section_starting(digest_message(digest()), "*The week* vs the week before")
    assert field_texts(block) == [
        "*Won*\n$120,000\n_▲ 20%_",
        "*Deals won / lost*\n3 won · 2 lost\n_won ▲ 1 · lost = no change_",
        "*Win rate*\n60%\n_▲ 10 pts_",
        "*Avg deal size*\n$40,000\n_▼ 20%_",
        "*Avg sales cycle*\n32 days\n_▼ 3.5 days_",
        "*Open pipeline*\n$1.2M\n_▼ 3.8%_",
        "*Pipeline coverage*\n2.3x\n_▲ 0.3x_",
        "*Lead response (median)*\n9 min\n_▼ 3 min_",
        "*Lead SLA met*\n80%\n_▼ 10 pts_",
        "*Meetings / rep / week*\n3.2\n_= no change_",
    ]


def test_an_undefined_change_is_left_out_never_shown_as_none_or_nan() -> None:
    previous = kpis(won_amount=100_000.0, won_count=2, lost_count=2)  # the rest undefined
    message = digest_message(digest(previous=previous))
    block = section_starting(message, "*The week* vs the week before")
    assert "*Win rate*\n60%" in field_texts(block)
    payload = json.dumps(message.blocks)
    assert not re.search(r"\b(None|nan|NaN|null)\b", payload)


def test_quarter_to_date_shows_attainment_vs_pace_forecast_and_weighted_pipeline() -> None:
    block = section_starting(digest_message(digest()), "*Quarter to date*")
    assert block["text"]["text"] == "*Quarter to date* · 2026-Q4, Oct 1 – Dec 31"
    assert field_texts(block) == [
        "*Quota attainment*\n64%\n_66% expected by now_",
        "*Won*\n$640,000 of $1.0M\n_$360,000 still to win_",
        "*Forecast*\n$800,000\n_80% of it won so far_",
        "*Weighted pipeline closing in 2026-Q4*\n$310,000",
    ]


def test_quarter_without_quota_or_forecast_says_so() -> None:
    message = digest_message(
        digest(
            quarter_to_date=kpis(won_amount=5_000.0),
            forecast=ForecastFacts("2026-Q4", None, 5_000.0, 0.0, None),
        )
    )
    fields = field_texts(section_starting(message, "*Quarter to date*"))
    assert fields[:3] == [
        "*Quota attainment*\nNo quota set",
        "*Won*\n$5,000",
        "*Forecast*\nNobody has submitted one",
    ]


def test_leaderboard_is_an_aligned_table_marking_who_is_behind_pace() -> None:
    message = digest_message(digest())
    legend = section_starting(message, "*Leaderboard*")["text"]["text"]
    assert legend.endswith("quota attainment quarter to date; `!` behind pace")
    text = text_of(message)
    assert " # Rep                     Won  Quota   Win  Meet    Reply" in text
    assert " 1 Jane Doe            $80,000    42%   66%     4  7.5 min !" in text
    assert " 2 Bob Stone           $40,000    90%   50%   2.5    1.6 h" in text
    assert " 3 Nia New                  $0      —     —     —        —" in text


def test_behind_pace_gives_each_reps_gap_in_money() -> None:
    block = section_starting(digest_message(digest()), "*Behind pace*")
    assert block["text"]["text"] == (
        "*Behind pace* · 1 of 2 reps with a quota, 66% of quota expected by now\n"
        "• Jane Doe: 42% of quota, $18,250 short of pace"
    )


def test_nobody_behind_pace_reads_as_good_news() -> None:
    on_pace = replace(JANE, behind_pace=False, pace_gap=0.0)
    message = digest_message(digest(leaderboard=[on_pace, BOB], behind_pace=[]))
    text = section_starting(message, "*Behind pace*")["text"]["text"]
    assert text == "*Behind pace* · Nobody: everyone with a quota is on pace."
    assert "behind pace" not in message.text


def test_lead_sla_counts_add_up_and_name_who_missed_most() -> None:
    block = section_starting(digest_message(digest()), "*Lead SLA*")
    assert block["text"]["text"] == (
        "*Lead SLA* · 10 new leads: 8 answered in time, 2 missed the SLA. "
        "SLA met: 80% of the leads decided. 1 lead still without a reply.\n"
        "Most SLA misses: Bob Stone (1.6 h median, 2 missed) · Nia New (no reply yet, 1 missed)"
    )


def test_lead_sla_names_the_leads_still_inside_their_sla() -> None:
    base = digest()
    sla = dataclasses.replace(base.sla, leads=12, unanswered=3)  # 2 more, not due yet
    block = section_starting(digest_message(dataclasses.replace(base, sla=sla)), "*Lead SLA*")
    assert block["text"]["text"].startswith(
        "*Lead SLA* · 12 new leads: 8 answered in time, 2 missed the SLA, 2 still inside it."
    )


def test_stale_deal_with_a_crm_url_has_an_open_in_crm_link_button() -> None:
    block = section_starting(digest_message(digest()), "*Acme renewal*")
    assert block["text"]["text"] == (
        "*Acme renewal* · Acme Corp\nJane Doe · $45,000 · quiet for 23 days · past its close date"
    )
    assert block["accessory"] == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Open in CRM", "emoji": True},
        "action_id": OPEN_IN_CRM,
        "url": "https://crm.example.com/deals/OPP-11",
        "value": "11",
    }


def test_stale_deal_without_a_crm_url_has_no_button_and_no_amount_placeholder() -> None:
    block = section_starting(digest_message(digest()), "*Globex*")
    assert block["text"]["text"] == "*Globex*\nBob Stone · quiet for 16 days"
    assert "accessory" not in block


def test_days_quiet_reads_the_whole_days_elapsed_as_the_nudge_does() -> None:
    message = digest_message(digest(stale_deals=[replace(GLOBEX, days_quiet=153.8)]))
    assert section_starting(message, "*Globex*")["text"]["text"].endswith("quiet for 153 days")


def test_a_deal_named_after_its_account_does_not_repeat_the_account() -> None:
    named = replace(ACME, name="Acme Corp - Enterprise")
    message = digest_message(digest(stale_deals=[named]))
    assert section_starting(message, "*Acme Corp - Enterprise*")["text"]["text"].startswith(
        "*Acme Corp - Enterprise*\nJane Doe · $45,000"
    )


def test_team_without_stale_deals_says_every_open_deal_had_activity() -> None:
    message = digest_message(digest(stale_deals=[]))
    text = section_starting(message, "*Stale deals worth a call*")["text"]["text"]
    assert text == "*Stale deals worth a call* · None: every open deal has had activity."
    assert not any("accessory" in block for block in message.blocks)


def test_what_changed_lists_the_movers_with_their_change() -> None:
    block = section_starting(digest_message(digest()), "*What changed*")
    assert block["text"]["text"] == (
        "*What changed*\n"
        "• Jane Doe — Won $80,000 (▲ 300% vs the week before)\n"
        "• NA East — Win rate 60% (▲ 10 pts vs the week before)"
    )


def test_footer_gives_the_computed_time_in_slack_syntax_the_bounds_and_definitions() -> None:
    footer = digest_message(digest()).blocks[-1]
    assert footer["type"] == "context"
    assert [e["text"] for e in footer["elements"]] == [
        f"Computed <!date^{int(COMPUTED.timestamp())}^{{date_short_pretty}} at {{time}}"
        "|Mon Nov 30, 09:00 EST>",
        "Week: Mon Nov 23 – Sun Nov 29 · quarter 2026-Q4: Oct 1 – Dec 31",
        "How each number is defined: `/kpi help`",
    ]


def test_chart_note_is_shown_when_given_and_absent_otherwise() -> None:
    note = "The chart could not be drawn this time."
    assert note not in text_of(digest_message(digest()))
    message = digest_message(digest(), chart_note=note)
    assert message.blocks[-2] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f":warning: {note}"}],
    }


def test_an_empty_week_says_so_in_one_section_instead_of_zeros() -> None:
    quiet = digest(
        kpis=kpis(open_pipeline_value=900_000.0),
        previous=kpis(),
        sla=SlaFacts(leads=0, met=0, breached=0, unanswered=0),
        movers=[],
        stale_deals=[],
    )
    assert quiet.is_empty
    message = digest_message(quiet)
    assert [b["type"] for b in message.blocks] == ["header", "section", "context"]
    assert message.blocks[1]["text"]["text"] == (
        "*A quiet week.* No deals closed, no new leads and no activity logged in the week "
        "(Mon Nov 23 – Sun Nov 29).\n"
        "Quarter to date: $640,000 won, 64% of quota, 66% expected by now."
    )
    assert message.text == "NA East · week of Nov 23: a quiet week, nothing closed"


def test_an_empty_week_still_lists_the_stale_deals_worth_a_call() -> None:
    quiet = digest(kpis=kpis(), sla=SlaFacts(leads=0, met=0, breached=0, unanswered=0))
    text = text_of(digest_message(quiet))
    assert "A quiet week." in text and "Acme renewal" in text and "Leaderboard" not in text


def test_a_30_rep_team_fits_slacks_limits_and_shows_every_rep() -> None:
    reps = [rep(n, 100_000.0 - n * 1000, 0.3 + n / 100, n < 20, 5000.0 * n) for n in range(30)]
    movers = [Mover(r.name, "won_amount", r.won_amount, 1000.0) for r in reps]
    slowest = [Responder(r.rep_id, r.name, 300.0, 3) for r in reps]
    stale = [replace(ACME, deal_id=100 + n, external_id=f"OPP-{n}") for n in range(30)]
    sla = SlaFacts(leads=400, met=300, breached=100, unanswered=20, slowest=slowest)
    message = digest_message(
        digest(leaderboard=reps, behind_pace=reps[:20], movers=movers, stale_deals=stale, sla=sla),
        chart_note="The chart could not be drawn this time.",
    )
    assert_within_block_kit_limits(message)
    text = text_of(message)
    for r in reps:
        assert r.name in text
    behind = section_starting(message, "*Behind pace*")["text"]["text"]
    assert behind.endswith("\n…and 5 more, marked `!` in the leaderboard.")
    assert sum(1 for b in message.blocks if "accessory" in b) == 5
    assert message.blocks[-1]["type"] == "context"  # the footer is never cut


def test_a_long_team_splits_the_leaderboard_into_several_code_blocks() -> None:
    reps = [rep(n, 1000.0 * n, 0.5, False, 0.0) for n in range(80)]
    message = digest_message(digest(leaderboard=reps, behind_pace=[]))
    assert_within_block_kit_limits(message)
    tables = [b for b in sections(message) if b["text"]["text"].startswith("```")]
    assert len(tables) == 2


def test_other_periods_read_as_their_month_quarter_or_dates() -> None:
    month = replace(WEEK, label="2026-10", kind="month",
                    start=datetime(2026, 10, 1, 4, tzinfo=UTC),
                    end=datetime(2026, 11, 1, 4, tzinfo=UTC))  # fmt: skip
    dates = replace(WEEK, label="2026-11-02..2026-11-16", kind="range",
                    start=datetime(2026, 11, 2, 5, tzinfo=UTC),
                    end=datetime(2026, 11, 16, 5, tzinfo=UTC))  # fmt: skip
    assert digest_message(digest(period=month)).blocks[0]["text"]["text"] == (
        "NA East · October 2026"
    )
    assert digest_message(digest(period=QUARTER)).blocks[0]["text"]["text"] == "NA East · 2026-Q4"
    assert digest_message(digest(period=dates)).blocks[0]["text"]["text"] == (
        "NA East · Nov 2 – Nov 15"
    )


def test_a_stored_digest_notice_renders_the_same_message() -> None:
    notice = DigestNotice(digest(), chart_note="The chart could not be drawn this time.")
    payload = json.loads(json.dumps(notice_payload(notice)))
    assert render(notice.kind, payload) == digest_message(
        notice.digest, chart_note=notice.chart_note
    )


def test_a_stored_chart_notice_is_a_file_with_its_title_as_alt_text() -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    notice = DigestChartNotice(
        base64.b64encode(png).decode(), "digest-na-east-2026-w48.png", "NA East · week of Nov 23"
    )
    payload = json.loads(json.dumps(notice_payload(notice)))
    assert is_file(notice.kind) and not is_file(DigestNotice.kind)
    upload = render_file(notice.kind, payload)
    assert upload.content == png
    assert upload.filename == "digest-na-east-2026-w48.png"
    assert upload.title == upload.alt_text == "NA East · week of Nov 23"
    assert upload.initial_comment == ":bar_chart: NA East · week of Nov 23"
    with pytest.raises(UnreadableNotice, match="is a file"):
        render(notice.kind, payload)
    with pytest.raises(UnreadableNotice, match="unreadable"):
        render_file(notice.kind, {**payload, "png_base64": "not base64!"})


def test_coverage_without_a_quota_for_the_week_moves_to_quarter_to_date() -> None:
    base = digest()
    week = {**base.kpis, "pipeline_coverage": None}
    qtd = {**base.quarter_to_date, "pipeline_coverage": 18.3}
    message = digest_message(dataclasses.replace(base, kpis=week, quarter_to_date=qtd))
    headline = section_starting(message, "*The week*")
    quarter = section_starting(message, "*Quarter to date*")
    assert not any("Pipeline coverage" in field["text"] for field in headline["fields"])
    assert "*Pipeline coverage*\n18.3x\n_pipeline due this quarter / quota still to win_" in [
        field["text"] for field in quarter["fields"]
    ]
