"""What a team's weekly digest says, as facts: numbers and names, no Slack, no pixels.

`salesops_core.digest.content` builds a `TeamDigest` from the KPI engine; `commands.digest`
turns it into Block Kit, `salesops_core.charts.digest_chart` into one composite PNG, and the
outbox stores it as the facts of a `DigestNotice` (JSON through pydantic, like every notice).
Everything here is plain data so a digest reads the same in the CLI, in Slack and on the chart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from salesops_core.nudges.facts import Nudge
from salesops_core.outbox import NoticeKind
from salesops_core.periods import Period, PeriodKind


@dataclass(frozen=True)
class PeriodFacts:
    """A reporting period: its label (`last-week`, `2026-Q4`), bounds [start, end) in UTC."""

    label: str
    start: datetime
    end: datetime
    running: bool  # the period had not ended when the digest was computed
    kind: PeriodKind = "range"  # week, month, quarter, year or range: how its dates read
    timezone: str = "UTC"  # the org zone whose local midnights bound the period
    same_point: bool = False  # only part of the previous period compares (words.compared_with)

    @classmethod
    def of(cls, period: Period, now: datetime) -> PeriodFacts:
        """The facts of a period (bounds in UTC) as it stands at `now`."""
        return cls(
            label=period.label,
            start=period.start.astimezone(UTC),
            end=period.end.astimezone(UTC),
            running=now < period.end,
            kind=period.kind,
            timezone=str(period.start.tzinfo),
            same_point=period.compares_to_same_point(now),
        )


@dataclass(frozen=True)
class Recipient:
    """Who receives a digest: the team's manager (or an admin for a region or the org)."""

    rep_id: int
    name: str
    email: str | None
    slack_user_id: str | None
    timezone: str  # the IANA zone the schedule uses (rep's, else Slack's, else the org's)


DigestScope = Literal["team", "region", "org"]  # what a digest is about


@dataclass(frozen=True)
class RepLine:
    """One rep on the leaderboard, for the digest period (and pace over quarter to date); in
    a region's or the org's digest, one team (`rep_id` is then the team's id)."""

    rep_id: int
    name: str
    won_amount: float
    quota_attainment: float | None  # quarter to date, vs the quarter's quota
    win_rate: float | None
    meetings_per_week: float | None
    lead_response_minutes_median: float | None
    behind_pace: bool | None  # None without a quota for the quarter
    pace_gap: float | None  # money still needed to be back on pace now (0 when on pace)


@dataclass(frozen=True)
class Responder:
    """A rep's lead response in the digest period (for "slowest responders"); a team's in a
    region's or the org's digest."""

    rep_id: int
    name: str
    median_minutes: float | None
    breaches: int  # leads answered after their SLA deadline, or still unanswered past it


@dataclass(frozen=True)
class SlaFacts:
    """Lead SLA in the digest period."""

    leads: int  # leads created in the period
    met: int
    breached: int  # answered late, or unanswered past the deadline
    unanswered: int  # still without a first response
    slowest: list[Responder] = field(default_factory=list)  # worst first, at most a few


@dataclass(frozen=True)
class ForecastFacts:
    """Forecast vs won for the quarter to date."""

    period: str  # the quarter's label
    forecast: float | None  # the team's latest commit for the quarter (None: nobody submitted)
    won: float
    # open deals expected to close in the quarter, weighted (as /forecast); None once it ended
    weighted_pipeline: float | None
    quota: float | None


@dataclass(frozen=True)
class StaleDeal:
    """An open deal worth a call: no activity for `days_quiet` days, or past its close date."""

    deal_id: int
    external_id: str
    name: str | None
    account: str | None
    owner: str
    amount: float | None
    days_quiet: float | None  # days since the last activity (or since creation)
    past_close: bool
    crm_url: str | None  # from `[org] deal_url`, when configured


@dataclass(frozen=True)
class Mover:
    """A notable change vs the previous period, for the "what changed" line."""

    subject: str  # a rep's name, or the team's
    key: str  # a KPI key of the registry
    current: float | None
    previous: float | None


@dataclass(frozen=True)
class StageBar:
    """Open pipeline of one stage: amount and weighted amount (for the chart)."""

    stage: str
    amount: float
    weighted: float
    deals: int


@dataclass(frozen=True)
class ChartFacts:
    """What the digest's one composite chart draws (each panel is skipped when empty)."""

    team: str
    period: str
    expected_attainment: float  # the pace line: share of the quarter elapsed
    attainment: list[tuple[str, float | None]]  # (rep, attainment QTD), best first
    stages: list[StageBar]
    # histogram bin edges in clock minutes to first response, as
    # kpi.views.response_counts_by_bin counts them (len = len(counts) + 1)
    response_edges: list[float]
    response_within: list[int]  # leads per bin answered within SLA
    response_late: list[int]  # leads per bin answered late
    sla_minutes: float | None  # the SLA target line, when one policy applies
    won_trend: list[tuple[str, float]]  # (period label, won amount), oldest first, incl. now
    won_previous: list[tuple[str, float]]  # the same labels one period earlier
    sla_business_hours: bool = True  # the SLA target counts business minutes (the policy's)
    unanswered: int = 0  # leads of the period still without a response (not in the bins)
    trend_running: bool = False  # the last won_trend period had not ended: drawn "to date"
    line_unit: str = "rep"  # what an attainment bar is: "team" in a region's or the org's


@dataclass(frozen=True)
class TeamDigest:
    """One team's digest for one period, computed at the moment it is sent; or a region's or
    the org's (`scope`), the same facts with one leaderboard line per team of the scope."""

    team_id: int | None  # None for a region's or the org's digest
    team: str  # the team's name, the region's, or "Org"
    region: str | None
    recipient: Recipient | None  # None: the team has no manager
    period: PeriodFacts
    previous_period: PeriodFacts
    quarter: PeriodFacts  # quarter to date
    computed_at: datetime
    kpis: dict[str, Any]  # = `salesops kpi --team T --period P --format json` "kpis"
    previous: dict[str, Any]  # the same keys, previous period
    quarter_to_date: dict[str, Any]  # the same keys, quarter to date
    leaderboard: list[RepLine]
    behind_pace: list[RepLine]
    sla: SlaFacts
    forecast: ForecastFacts
    stale_deals: list[StaleDeal]
    movers: list[Mover]
    chart: ChartFacts
    # the recipient's own nudges the daily budget held back when the digest was computed
    held_nudges: list[Nudge] = field(default_factory=list)
    scope: DigestScope = "team"

    @property
    def is_empty(self) -> bool:
        """Nothing happened in the period: no deal closed, no lead, no activity."""
        kpis = self.kpis
        return (
            not kpis.get("won_count")
            and not kpis.get("lost_count")
            and self.sla.leads == 0
            and kpis.get("selling_time_share") is None
        )


@dataclass(frozen=True)
class DigestNotice:
    """A team digest to deliver: the outbox row's facts (rendered when sent)."""

    kind: ClassVar[NoticeKind] = NoticeKind.DIGEST
    digest: TeamDigest
    chart_note: str | None = None  # why the chart is missing, when it is


@dataclass(frozen=True)
class DigestChartNotice:
    """The digest's chart, drawn when the digest was computed, posted into the conversation
    of its digest message once that message is delivered (the outbox row's `follows_id`)."""

    kind: ClassVar[NoticeKind] = NoticeKind.DIGEST_CHART
    png_base64: str
    filename: str  # "digest-na-east-2026-w47.png"
    title: str  # the file title and alt text
