"""Lead notices -> Slack messages, from plain facts (no database)."""

import json
from datetime import UTC, datetime

import pytest

from commands.notices import (
    ACTION_IDS,
    FILE_RENDERERS,
    RENDERERS,
    UnreadableNotice,
    lead_dm,
    render,
)
from salesops_core.leads.notices import (
    LeadAction,
    LeadDmUpdate,
    LeadFacts,
    LeadReassigned,
    LeadReminder,
    ManagerAlert,
    NewLead,
)
from salesops_core.outbox import NoticeKind, notice_payload, read_notice

DUE = datetime(2026, 11, 23, 10, 5, tzinfo=UTC)
ACME = LeadFacts(7, "web-42", "Acme", "web", DUE)
BARE = LeadFacts(8, "web-43", None, None, None)
DATE = f"<!date^{int(DUE.timestamp())}^{{date_short_pretty}} {{time}}|2026-11-23 10:05 UTC>"


def stored(notice):
    """The notice as the dispatcher meets it: kind and JSON facts, through a JSON round trip."""
    return render(notice.kind, json.loads(json.dumps(notice_payload(notice))))


def texts(message):
    return [block["text"]["text"] for block in message.blocks if block["type"] == "section"]


def buttons(message):
    [actions] = [block for block in message.blocks if block["type"] == "actions"]
    return [(b["action_id"], b["value"], b["text"]["text"]) for b in actions["elements"]]


def test_every_notice_kind_has_one_renderer_a_message_or_a_file():
    assert set(RENDERERS) | set(FILE_RENDERERS) == set(NoticeKind)
    assert not set(RENDERERS) & set(FILE_RENDERERS)


def test_a_stored_notice_reads_back_equal_with_its_deadline_in_utc():
    payload = json.loads(json.dumps(notice_payload(ManagerAlert(ACME, "Rep 1"))))
    assert payload["lead"]["respond_by"] == "2026-11-23T10:05:00Z"
    back = read_notice(ManagerAlert, payload)
    assert back == ManagerAlert(ACME, "Rep 1")
    assert back.lead.respond_by.timestamp() == DUE.timestamp()


def test_new_lead_dm_shows_the_deadline_in_slack_date_syntax_and_three_buttons():
    message = stored(NewLead(ACME))
    assert message.text == "New lead: Acme — respond by 10:05 UTC"
    assert texts(message) == [
        ":zap: New lead for you: *Acme* from web · `web-42`",
        f"Respond by {DATE}.",
    ]
    assert buttons(message) == [
        ("lead_contacted", "7", "Contacted"),
        ("lead_snooze", "7", "Snooze 15 min"),
        ("lead_reassign", "7", "Reassign"),
    ]


def test_a_lead_without_company_or_deadline_is_named_by_its_external_id():
    message = stored(NewLead(BARE))
    assert message.text == "New lead: web-43"
    assert texts(message)[0] == ":zap: New lead for you: *(no company)* · `web-43`"
    assert texts(message)[1] == "Respond by n/a."


def test_reminder_keeps_the_buttons():
    message = stored(LeadReminder(ACME))
    assert message.text == "Reminder: lead Acme is still waiting for you"
    assert texts(message) == [
        f":alarm_clock: Still waiting: *Acme* from web · `web-42`\nResponse was due {DATE}."
    ]
    assert [action for action, _, _ in buttons(message)] == list(ACTION_IDS.values())


def test_manager_alert_names_the_owner_or_nobody_and_has_no_buttons():
    message = stored(ManagerAlert(ACME, "Rep 1"))
    assert message.text == "Lead Acme owned by Rep 1 has had no response"
    assert "Owner: Rep 1." in texts(message)[0]
    assert "actions" not in [block["type"] for block in message.blocks]
    assert stored(ManagerAlert(ACME, None)).text == "Lead Acme owned by nobody has had no response"


def test_reassigned_notice_says_where_the_lead_went():
    message = stored(LeadReassigned(ACME, "Rep 2"))
    assert message.text == "Lead Acme was reassigned to Rep 2"
    assert texts(message) == [
        "*Acme* from web · `web-42`\n"
        ":arrows_counterclockwise: Reassigned to Rep 2; it is theirs now."
    ]
    assert "actions" not in [block["type"] for block in message.blocks]


def test_a_closed_lead_dm_shows_the_status_without_buttons():
    message = stored(LeadDmUpdate(ACME, "Response recorded."))
    assert message.text == "Acme: Response recorded."
    assert texts(message) == ["*Acme* from web · `web-42`\n:white_check_mark: Response recorded."]
    assert "actions" not in [block["type"] for block in message.blocks]


def test_a_still_open_lead_dm_keeps_its_buttons_under_the_note():
    message = lead_dm(LeadDmUpdate(ACME, ":zzz: Snoozed.", still_open=True))
    assert message.text == stored(NewLead(ACME)).text
    kinds = [block["type"] for block in message.blocks]
    assert kinds == ["section", "section", "context", "actions"]
    assert message.blocks[2]["elements"][0]["text"] == ":zzz: Snoozed."


def test_every_lead_action_has_a_button():
    assert set(ACTION_IDS) == set(LeadAction)


@pytest.mark.parametrize(
    ("kind", "payload"),
    [("no_such_kind", {}), ("lead_dm", {"lead": {"lead_id": "x"}}), ("alert_manager", {})],
)
def test_an_unreadable_notice_is_refused(kind, payload):
    with pytest.raises(UnreadableNotice):
        render(kind, payload)
