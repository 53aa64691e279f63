"""The data model: SQLAlchemy 2.0 typed ORM. All time stamps are UTC (see timeutil)."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import JSON

from salesops_core.timeutil import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 2, asdecimal=False)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime}
    __table__: ClassVar[Table]  # every model maps one plain table (SQLAlchemy types it wider)


class Role(enum.StrEnum):
    REP = "rep"
    MANAGER = "manager"
    ADMIN = "admin"


class Outcome(enum.StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class ActivityType(enum.StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    DEMO = "demo"
    ADMIN = "admin"
    TRAINING = "training"
    OTHER = "other"


SELLING_ACTIVITY_TYPES = (
    ActivityType.CALL,
    ActivityType.EMAIL,
    ActivityType.MEETING,
    ActivityType.DEMO,
)


class LeadStatus(enum.StrEnum):
    OPEN = "open"
    RESPONDED = "responded"
    CLOSED = "closed"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable string enum column (VARCHAR + CHECK, same on SQLite and Postgres)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


class Team(Base):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    region: Mapped[str | None] = mapped_column(String(200), index=True)

    reps: Mapped[list[Rep]] = relationship(back_populates="team")


class Rep(Base):
    __tablename__ = "rep"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    slack_user_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    crm_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("rep.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.REP)
    timezone: Mapped[str | None] = mapped_column(String(64))
    work_start: Mapped[time] = mapped_column(Time, default=time(9, 0))
    work_end: Mapped[time] = mapped_column(Time, default=time(17, 0))
    workdays: Mapped[str] = mapped_column(String(16), default="12345")  # ISO weekdays
    holiday_country: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    round_robin_weight: Mapped[float] = mapped_column(Float, default=1.0)

    team: Mapped[Team | None] = relationship(back_populates="reps")
    manager: Mapped[Rep | None] = relationship(remote_side=[id])


class Stage(Base):
    """The stage map: a CRM stage name, its order, default probability and outcome."""

    __tablename__ = "stage"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    probability: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome, "outcome"), default=Outcome.OPEN)


class Quota(Base):
    __tablename__ = "quota"
    __table_args__ = (UniqueConstraint("rep_id", "period_start", "period_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("rep.id"))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    amount: Mapped[float] = mapped_column(Money)


class Lead(Base):
    __tablename__ = "lead"
    __table_args__ = (
        Index("ix_lead_status_created", "status", "created_at"),
        Index(  # KPI lead numbers read from the index alone
            "ix_lead_owner_created_cover",
            "owner_id",
            "created_at",
            "first_response_at",
            "sla_due_at",
            "source",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    source: Mapped[str | None] = mapped_column(String(128))
    company: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("rep.id"))
    first_response_at: Mapped[datetime | None]
    sla_due_at: Mapped[datetime | None]  # first-response deadline under the lead's SLA policy
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("rep.id"))
    status: Mapped[LeadStatus] = mapped_column(
        _enum(LeadStatus, "lead_status"), default=LeadStatus.OPEN
    )
    # speed-to-lead ladder: steps done (0 = only the first DM), when the next step is due
    ladder_step: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    snoozed_until: Mapped[datetime | None]

    owner: Mapped[Rep | None] = relationship(foreign_keys=[owner_id])


class Deal(Base):
    __tablename__ = "deal"
    __table_args__ = (
        Index("ix_deal_closed_outcome", "closed_at", "outcome"),
        Index("ix_deal_outcome_owner", "outcome", "owner_id"),
        Index("ix_deal_created_cover", "created_at", "owner_id", "stage"),  # the stage funnel
        Index(  # KPI closed-deal sums read from the index alone
            "ix_deal_owner_closed_cover", "owner_id", "closed_at", "outcome", "amount", "created_at"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str | None] = mapped_column(String(300))
    account: Mapped[str | None] = mapped_column(String(300))
    owner_id: Mapped[int] = mapped_column(ForeignKey("rep.id"))
    amount: Mapped[float | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    stage: Mapped[str] = mapped_column(String(200))
    probability: Mapped[float | None] = mapped_column(Float)  # 0..1; None: from the stage
    created_at: Mapped[datetime]
    expected_close: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome, "outcome"), default=Outcome.OPEN)
    product: Mapped[str | None] = mapped_column(String(200))
    forecast_category: Mapped[str | None] = mapped_column(String(64))

    owner: Mapped[Rep] = relationship()


class DealStageChange(Base):
    __tablename__ = "deal_stage_change"
    __table_args__ = (  # the stage funnel reads a deal's stages from the index alone
        Index("ix_deal_stage_change_deal_entered_stage", "deal_id", "entered_at", "stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(200))
    entered_at: Mapped[datetime]
    # the deal's amount and probability (0..1) as of the change; None: not recorded
    amount: Mapped[float | None] = mapped_column(Money)
    probability: Mapped[float | None] = mapped_column(Float)


class Activity(Base):
    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_deal_started", "deal_id", "started_at"),
        Index("ix_activity_started", "started_at"),
        Index(  # KPI activity sums read from the index alone
            "ix_activity_rep_started_cover",
            "rep_id",
            "started_at",
            "type",
            "minutes",
            "external_attendee",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("rep.id"))
    type: Mapped[ActivityType] = mapped_column(_enum(ActivityType, "activity_type"))
    started_at: Mapped[datetime]
    minutes: Mapped[float | None] = mapped_column(Float)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deal.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"))
    external_attendee: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)  # what was done (logged from Slack)


class Forecast(Base):
    """A forecast as submitted: one row per category ("commit", "best_case"); a resubmission
    adds rows, so the history stays. A team call (a manager's call for a team) carries the
    team; a rep's own forecast has none, and only those add up into forecast accuracy."""

    __tablename__ = "forecast"
    __table_args__ = (
        UniqueConstraint("rep_id", "period_start", "period_end", "category", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("rep.id"))  # who submitted it
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    amount: Mapped[float] = mapped_column(Money)
    category: Mapped[str] = mapped_column(String(64), default="commit")
    submitted_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))


class ForecastSnapshot(Base):
    """What a rep had submitted for a period, as of one week (the weekly snapshot): their
    latest commit and best case then; its lines are their open pipeline by stage then."""

    __tablename__ = "forecast_snapshot"
    __table_args__ = (UniqueConstraint("rep_id", "period_start", "period_end", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("rep.id", ondelete="CASCADE"))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    week: Mapped[date]  # the org-local Monday of the week it was taken
    taken_at: Mapped[datetime]
    commit_amount: Mapped[float | None] = mapped_column(Money)  # None: none submitted by then
    best_case_amount: Mapped[float | None] = mapped_column(Money)
    submitted_at: Mapped[datetime | None]  # when that commit was submitted

    lines: Mapped[list[ForecastSnapshotLine]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class ForecastSnapshotLine(Base):
    """One stage of a snapshot's open pipeline: deals, amount and weighted amount."""

    __tablename__ = "forecast_snapshot_line"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("forecast_snapshot.id", ondelete="CASCADE"), primary_key=True
    )
    stage: Mapped[str] = mapped_column(String(200), primary_key=True)
    deals: Mapped[int]
    amount: Mapped[float] = mapped_column(Money)
    weighted: Mapped[float] = mapped_column(Money)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


class Outbox(Base):
    """A notice the bot sends on its own (kind + facts); written first, then sent by a
    dispatcher, which records where the message landed (`slack_channel`, `slack_ts`)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # a salesops_core.outbox.NoticeKind
    # recipient: a Slack user or channel id, or "Name <email>" to look up when it is sent
    channel: Mapped[str | None] = mapped_column(String(600))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the notice's facts
    # an edit: the row of the delivered message this one rewrites (in place, via its ts)
    edits_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    # a follow-up: waits for that row's message, then goes into the same conversation
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    status: Mapped[OutboxStatus] = mapped_column(
        _enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_expires_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    # a chat.postMessage began then and its outcome is unknown: look in Slack before resending
    ambiguous_since: Mapped[datetime | None]
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class LeadAssignment(Base):
    """The assignment log: every time a lead gets (or changes) its owner, and why."""

    __tablename__ = "lead_assignment"
    __table_args__ = (Index("ix_lead_assignment_lead_at", "lead_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    from_rep_id: Mapped[int | None] = mapped_column(ForeignKey("rep.id"))
    to_rep_id: Mapped[int | None] = mapped_column(ForeignKey("rep.id"))
    reason: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]


class RoundRobinState(Base):
    """Per-rep round-robin position (stride scheduling); kept when reps come and go."""

    __tablename__ = "round_robin_state"

    rep_id: Mapped[int] = mapped_column(ForeignKey("rep.id", ondelete="CASCADE"), primary_key=True)
    pass_value: Mapped[float] = mapped_column(Float, default=0.0)
    assigned_count: Mapped[int] = mapped_column(Integer, default=0)
    last_assigned_at: Mapped[datetime | None]


class NudgeLog(Base):
    """A nudge that was sent: to whom, about what, on which local day, and what came of it."""

    __tablename__ = "nudge_log"
    __table_args__ = (Index("ix_nudge_log_rep_rule_subject", "rep_id", "rule", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("rep.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(32))  # a salesops_core.config.NudgeRule
    subject: Mapped[str] = mapped_column(String(200))  # "deal:OPP-123", "period:2027-Q1"
    day: Mapped[date]  # the person's local date when it was sent (their budget day)
    sent_at: Mapped[datetime] = mapped_column(index=True)  # when it went into the outbox
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)  # the outbox row's key
    action: Mapped[str | None] = mapped_column(String(32))  # the last button pressed
    acted_on_at: Mapped[datetime | None]  # done within 24 h: its button, or the fact changed
    acted_how: Mapped[str | None] = mapped_column(String(32))  # an Action value, "fact_changed"
    acted_by_id: Mapped[int | None] = mapped_column(ForeignKey("rep.id"))
    snoozed_until: Mapped[datetime | None] = mapped_column(index=True)


class NudgeMute(Base):
    """ "Not relevant": the person hears no more of this rule about this subject."""

    __tablename__ = "nudge_mute"

    rep_id: Mapped[int] = mapped_column(ForeignKey("rep.id", ondelete="CASCADE"), primary_key=True)
    rule: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    muted_at: Mapped[datetime]


class NudgeSettings(Base):
    """A person's own nudge settings (`/salesops settings`); no row: the `[nudges]` defaults."""

    __tablename__ = "nudge_settings"

    rep_id: Mapped[int] = mapped_column(ForeignKey("rep.id", ondelete="CASCADE"), primary_key=True)
    quiet_hours: Mapped[str | None] = mapped_column(String(16))  # "19:00-08:00"; None: default
    rules_off: Mapped[list[str]] = mapped_column(JSON, default=list)  # NudgeRule values


class SyncCursor(Base):
    """Where the last sync of one CRM object stopped: the source's own position (a
    `SystemModstamp`, an `hs_lastmodifieddate`), advanced only past what was written."""

    __tablename__ = "sync_cursor"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)  # salesforce, hubspot
    object: Mapped[str] = mapped_column(String(64), primary_key=True)  # Opportunity, deals
    position: Mapped[str | None] = mapped_column(String(64))
    deleted_position: Mapped[str | None] = mapped_column(String(64))  # for deletions
    updated_at: Mapped[datetime]


class SyncPending(Base):
    """A record a sync skipped (it failed the import checks): fetched again by id at the
    start of each run until it is written or gone, since the cursor has moved past it."""

    __tablename__ = "sync_pending"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    object: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)  # the last reason it was skipped
    since: Mapped[datetime]  # first skipped


class SyncRun(Base):
    """One run of `salesops sync`: when, what it wrote per object, and what it skipped."""

    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_source_started_at", "source", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))  # running, ok, partial, failed
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    requests: Mapped[int] = mapped_column(Integer, default=0)  # HTTP requests to the CRM
    # per object: {"fetched", "created", "updated", "unchanged", "removed", "skipped"}
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # skipped records: [{"object", "id", "field", "reason"}], at most MAX_LOGGED_ERRORS
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(Text)  # why a failed run stopped
