"""Nudges and the manager's roll-up as Slack messages, and the "Log activity" modal (no DB)."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from commands.activity_modal import (
    LOG_ACTIVITY_CALLBACK,
    ModalOrigin,
    log_activity_view,
    read_submission,
)
from commands.kit.message import SlackMessage
from commands.notices import (
    RULE_TITLES,
    logged_status,
    muted_status,
    nudge_done,
    render,
    snoozed_status,
)
from salesops_core.db.models import ActivityType
from salesops_core.nudges.activity import InvalidActivity, LoggedActivity
from salesops_core.nudges.facts import (
    Action,
    Nudge,
    NudgeNotice,
    RollupLine,
    RollupNotice,
    Rule,
)
from salesops_core.outbox import notice_payload

DEFER = (Action.SNOOZE_DAY, Action.SNOOZE_WEEK, Action.NOT_RELEVANT)
CRM = "https://acme.my.salesforce.com/lightning/r/Opportunity/OPP-7/view"


def nudge(
    rule: Rule,
    fact: str,
    actions: tuple[Action, ...],
    subject: str = "period:2026-Q4",
    **extra: Any,
) -> Nudge:
    return Nudge(rule, 4, "Ann Lee", subject, fact, "Why it matters.", (*actions, *DEFER), **extra)


STALE = nudge(
    Rule.STALE_DEAL,
    "Acme renewal ($48,000) has had no activity for 19 days",
    (Action.LOG_ACTIVITY, Action.OPEN_DEAL),
    subject="deal:OPP-7",
    deal_id=7,
    deal_external_id="OPP-7",
    crm_url=CRM,
)
PAST_CLOSE = nudge(
    Rule.PAST_CLOSE, "3 deals are past their expected close", (), subject="deals:past-close"
)
NO_FORECAST = nudge(
    Rule.NO_FORECAST, "No commit forecast for 2027-Q1 yet, due Friday", (Action.SUBMIT_FORECAST,)
)
FEW_MEETINGS = nudge(
    Rule.FEW_MEETINGS,
    "2 prospect meetings this week, your target is 5",
    (Action.LOG_ACTIVITY,),
    subject="week:2026-W47",
)
BEHIND = nudge(Rule.BEHIND_PACE, "You are at 41% of quota with 67% of the quarter gone", ())
LOW_SELLING = nudge(
    Rule.LOW_SELLING_TIME, "22% of your logged time is selling, target 35%", (Action.LOG_ACTIVITY,)
)
EVERY_RULE = [
    (STALE, ["Log activity", "Open in CRM"]),
    (PAST_CLOSE, []),
    (NO_FORECAST, ["Submit forecast"]),
    (FEW_MEETINGS, ["Log activity"]),
    (BEHIND, []),
    (LOW_SELLING, ["Log activity"]),
]


def stored(notice: NudgeNotice | RollupNotice) -> SlackMessage:
    """The notice as the dispatcher meets it: kind and JSON facts, through a JSON round trip."""
    return render(notice.kind, json.loads(json.dumps(notice_payload(notice))))


def buttons(message: SlackMessage) -> list[dict[str, Any]]:
    [actions] = [block for block in message.blocks if block["type"] == "actions"]
    return list(actions["elements"])


@pytest.mark.parametrize(("fact", "doing"), EVERY_RULE, ids=[n.rule.value for n, _ in EVERY_RULE])
def test_every_rules_nudge_reads_its_fact_in_bold_with_its_buttons_then_snooze_and_mute(
    fact: Nudge, doing: list[str]
) -> None:
    message = stored(NudgeNotice(nudge=fact, log_id=31))
    assert message.text == fact.fact
    assert message.blocks[0]["text"]["text"] == f"*{fact.fact}*\nWhy it matters."
    labels = [b["text"]["text"] for b in buttons(message)]
    assert labels == [*doing, "Snooze a day", "Snooze a week", "Not relevant"]
    assert {b["value"] for b in buttons(message)} == {"31"}
    assert len({b["action_id"] for b in buttons(message)}) == len(labels)


def test_open_in_crm_is_a_link_to_the_deal_and_is_left_out_without_one() -> None:
    [_, crm, *_] = buttons(stored(NudgeNotice(nudge=STALE, log_id=1)))
    assert (crm["text"]["text"], crm["url"]) == ("Open in CRM", CRM)
    no_link = Nudge(**{**STALE.__dict__, "crm_url": None})
    labels = [b["text"]["text"] for b in buttons(stored(NudgeNotice(nudge=no_link, log_id=1)))]
    assert "Open in CRM" not in labels


def test_after_a_press_the_nudge_keeps_its_fact_and_says_what_was_done_without_buttons() -> None:
    until = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    snoozed = nudge_done(STALE, snoozed_status(until))
    assert [b["type"] for b in snoozed.blocks] == ["section", "context"]
    assert snoozed.blocks[1]["elements"][0]["text"] == (
        f":zzz: Snoozed until <!date^{int(until.timestamp())}^{{date_short_pretty}} {{time}}"
        "|2026-11-24 09:00 UTC>."
    )
    assert muted_status(STALE) == ":no_bell: Muted: you won't hear about OPP-7 again (stale deals)."
    assert logged_status("call", 30) == ":white_check_mark: Logged your 30 min call."
    assert logged_status("email", None) == ":white_check_mark: Logged your email."


def test_the_roll_up_counts_each_rule_with_its_top_items_and_how_many_more() -> None:
    second = Nudge(**{**STALE.__dict__, "rep": "Bob Stone", "fact": "Globex ($9,000) quiet"})
    notice = RollupNotice(
        manager_id=9,
        team="West",
        day="2026-11-23",
        lines=[
            RollupLine(Rule.STALE_DEAL, 12, [STALE, second]),
            RollupLine(Rule.BEHIND_PACE, 1, [BEHIND]),
            RollupLine(Rule.FEW_MEETINGS, 0, []),
        ],
    )
    message = stored(notice)
    assert (
        message.text == "Your team's open nudges (West), Mon 23 Nov: stale deals 12, behind pace 1"
    )
    assert message.blocks[0]["text"]["text"] == "Your team's open nudges (West), Mon 23 Nov"
    assert message.blocks[1]["text"]["text"] == (
        "*Stale deals*: 12\n"
        "• Ann Lee: Acme renewal ($48,000) has had no activity for 19 days\n"
        "• Bob Stone: Globex ($9,000) quiet\n"
        "…and 10 more"
    )
    assert message.blocks[2]["text"]["text"] == (
        "*Behind pace*: 1\n• Ann Lee: You are at 41% of quota with 67% of the quarter gone"
    )
    assert not [b for b in message.blocks if b["type"] == "actions"]


def test_an_empty_roll_up_says_nothing_is_open() -> None:
    message = stored(RollupNotice(manager_id=9, team=None, day="2026-11-23", lines=[]))
    assert message.text == "Your team's open nudges, Mon 23 Nov: none"


def test_every_rule_has_a_title() -> None:
    assert set(RULE_TITLES) == set(Rule)


# ---- the "Log activity" modal ---------------------------------------------------------------


def state(type_value: str | None = "call", minutes: str | None = "30", note: str | None = None,
          prospect: bool = False) -> dict:  # fmt: skip
    """A submitted modal's `view` as Slack sends it."""
    values = {
        "type": {"value": {"type": "static_select",
                           "selected_option": {"value": type_value} if type_value else None}},
        "minutes": {"value": {"type": "plain_text_input", "value": minutes}},
        "note": {"value": {"type": "plain_text_input", "value": note}},
        "external_attendee": {"value": {"type": "checkboxes", "selected_options":
                                        [{"value": "yes"}] if prospect else []}},
    }  # fmt: skip
    return {"state": {"values": values}}


def test_the_modal_carries_the_nudge_and_its_message_and_asks_type_minutes_note() -> None:
    origin = ModalOrigin(31, "DANN", "1.000200")
    view = log_activity_view(origin, STALE.fact)
    assert view["type"] == "modal" and view["callback_id"] == LOG_ACTIVITY_CALLBACK
    assert ModalOrigin.load(view["private_metadata"]) == origin
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == ["type", "minutes", "note", "external_attendee"]
    options = [o["value"] for o in inputs["type"]["element"]["options"]]
    assert options == [t.value for t in ActivityType]
    assert view["blocks"][0]["elements"][0]["text"] == f"*{STALE.fact}*"


def test_a_good_submission_reads_as_the_activity() -> None:
    logged = read_submission(state("meeting", " 45 ", "  Renewal terms  ", prospect=True))
    assert logged == LoggedActivity(ActivityType.MEETING, 45.0, "Renewal terms", True)
    assert read_submission(state("email", "", None)) == LoggedActivity(ActivityType.EMAIL, None)


@pytest.mark.parametrize(
    ("view", "errors"),
    [
        (state(minutes="-5"), {"minutes": "minutes cannot be negative"}),
        (state(minutes="abc"), {"minutes": "'abc' is not a number of minutes, e.g. 30"}),
        (state(minutes="1441"), {"minutes": "at most 1,440 minutes (24 h)"}),
        (state(minutes="nan"), {"minutes": "'nan' is not a number of minutes, e.g. 30"}),
        (state(type_value=None), {"type": "choose what you did"}),
        (state(type_value="lunch", minutes="x"),
         {"type": "choose what you did", "minutes": "'x' is not a number of minutes, e.g. 30"}),
        (state(note="n" * 2001), {"note": "at most 2,000 characters"}),
    ],
)  # fmt: skip
def test_a_bad_submission_names_each_wrong_field_by_its_block_id(view: dict, errors: dict) -> None:
    with pytest.raises(InvalidActivity) as invalid:
        read_submission(view)
    assert {str(field): message for field, message in invalid.value.errors.items()} == errors
