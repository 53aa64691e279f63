"""What the lead clock tells people, as facts: one dataclass per notice kind.

The lead engine puts these in the outbox; `commands.notices` turns each into a Slack message
when it is sent. Nothing here knows how a notice looks.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from salesops_core.db.models import Lead
from salesops_core.outbox import NoticeKind

SNOOZE_MINUTES = 15.0  # how long the Snooze action holds the ladder


class LeadAction(enum.StrEnum):
    """What the owner can do from a lead notice (the notice's buttons)."""

    CONTACTED = "contacted"  # record the first response: the ladder stops
    SNOOZE = "snooze"  # hold the ladder for SNOOZE_MINUTES
    REASSIGN = "reassign"  # hand the lead to the next available rep


@dataclass(frozen=True)
class LeadFacts:
    """The lead a notice is about."""

    lead_id: int
    external_id: str
    company: str | None
    source: str | None
    respond_by: datetime | None  # the first-response deadline (sla_due_at)

    @classmethod
    def of(cls, lead: Lead) -> LeadFacts:
        """The facts of a lead as it is now."""
        return cls(lead.id, lead.external_id, lead.company, lead.source, lead.sla_due_at)

    @property
    def name(self) -> str:
        """The company, else the external id."""
        return self.company or self.external_id


@dataclass(frozen=True)
class NewLead:
    """A lead for its (new) owner, who can act on it."""

    kind: ClassVar[NoticeKind] = NoticeKind.NEW_LEAD
    lead: LeadFacts


@dataclass(frozen=True)
class LeadReminder:
    """Ladder step 1: the lead is still waiting for its owner."""

    kind: ClassVar[NoticeKind] = NoticeKind.LEAD_REMINDER
    lead: LeadFacts


@dataclass(frozen=True)
class ManagerAlert:
    """Ladder step 2: the owner's manager hears the lead has had no response."""

    kind: ClassVar[NoticeKind] = NoticeKind.MANAGER_ALERT
    lead: LeadFacts
    owner: str | None  # the owner's name; None when nobody owns it


@dataclass(frozen=True)
class LeadReassigned:
    """Ladder step 3 (or a Reassign): the previous owner hears where the lead went."""

    kind: ClassVar[NoticeKind] = NoticeKind.LEAD_REASSIGNED
    lead: LeadFacts
    new_owner: str  # the new owner's name


@dataclass(frozen=True)
class LeadDmUpdate:
    """The owner's lead DM as it should read now: what happened, and whether it is still open.

    Sent through the outbox as an edit of the delivered DM when a response comes from the CRM;
    a button press rewrites the pressed message with it directly.
    """

    kind: ClassVar[NoticeKind] = NoticeKind.LEAD_DM_UPDATE
    lead: LeadFacts
    status: str  # one line: what happened
    still_open: bool = False  # True: the lead still waits (the DM keeps its actions)
