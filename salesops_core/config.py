"""Typed configuration values the domain needs. Loading them is the entry point's job."""

from __future__ import annotations

import datetime as dt
import enum
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from salesops_core.periods import PERIOD_WORDS, Period


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin"
        ) from None
    return name


HOLIDAY_COUNTRIES_URL = "https://github.com/vacanza/holidays#available-countries"


def _check_holiday_country(value: str) -> str:
    """A country code the holidays library knows ("US"), or one of its subdivisions ("US-CA"),
    in capitals."""
    from holidays import list_supported_countries  # loaded only when a country is set

    code = value.strip().upper()
    country, _, subdivision = code.partition("-")
    supported = list_supported_countries()
    if country not in supported or (subdivision and subdivision not in supported[country]):
        raise ValueError(
            f"{value!r} is not a country the holidays library knows; use a code such as US, GB "
            f"or DE, or a subdivision such as US-CA (the list: {HOLIDAY_COUNTRIES_URL})"
        )
    return code


class OrgConfig(BaseModel):
    """The org: time zone, fiscal calendar and KPI knobs."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = "UTC"
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    stale_deal_days: float = Field(14, gt=0)
    holiday_country: str | None = None  # e.g. "US"; reps may override
    # A deal's record in the CRM, e.g.
    # "https://acme.lightning.force.com/lightning/r/Opportunity/{external_id}/view"
    deal_url: str | None = None
    # Days into a period that forecasts for it still count for forecast accuracy (0: only
    # those submitted before it starts); until then `/forecast submit` offers that period.
    forecast_cutoff_days: float = Field(0, ge=0, le=31)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("holiday_country")
    @classmethod
    def _holiday_country(cls, value: str | None) -> str | None:
        return None if value is None else _check_holiday_country(value)

    @field_validator("deal_url")
    @classmethod
    def _deal_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "{external_id}" not in value:
            raise ValueError("deal_url must contain {external_id}, where the deal's id goes")
        if not value.startswith(("https://", "http://")):
            raise ValueError("deal_url must be an http(s):// address")
        return value

    def deal_link(self, external_id: str) -> str | None:
        """The deal's CRM address from `deal_url` (None when not configured)."""
        if self.deal_url is None:
            return None
        return self.deal_url.replace("{external_id}", quote(external_id, safe=""))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def forecast_cutoff(self, period: Period) -> dt.datetime:
        """The moment after which a forecast no longer counts for `period`'s accuracy."""
        return period.start + dt.timedelta(days=self.forecast_cutoff_days)


class SlaPolicy(BaseModel):
    """First-response SLA and escalation ladder for leads from one source (`*` = any)."""

    model_config = ConfigDict(extra="forbid")

    source: str = "*"
    first_response_minutes: float = Field(5, gt=0)
    remind_rep_after_minutes: float | None = Field(5, ge=0)
    alert_manager_after_minutes: float | None = Field(15, ge=0)
    reassign_after_minutes: float | None = Field(None, ge=0)
    business_hours: bool = True

    @model_validator(mode="after")
    def _ladder_in_order(self) -> SlaPolicy:
        steps = [
            m
            for m in (
                self.remind_rep_after_minutes,
                self.alert_manager_after_minutes,
                self.reassign_after_minutes,
            )
            if m is not None
        ]
        if steps != sorted(steps):
            raise ValueError("ladder steps must not decrease: remind <= alert manager <= reassign")
        return self

    def matches(self, source: str | None) -> bool:
        return self.source == "*" or (source or "").lower() == self.source.lower()


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class DigestConfig(BaseModel):
    """When the weekly manager digest goes out (in each recipient's time zone), what period
    it covers, the team channels that also get their team's digest, and the region heads who
    get their region's (the admins get it otherwise, and the org's always)."""

    model_config = ConfigDict(extra="forbid")

    weekday: str = "monday"
    time: dt.time = dt.time(9, 0)
    period: str = "last-week"  # a period word; quarter to date is always added
    channels: dict[str, str] = Field(default_factory=dict)  # team name -> "#channel" or id
    region_recipients: dict[str, str] = Field(default_factory=dict)  # region -> a rep's email

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        word = value.strip().lower()
        if word not in PERIOD_WORDS:
            raise ValueError(
                f"{value!r} is not a period word; use one of {', '.join(PERIOD_WORDS)}"
            )
        return word

    @field_validator("weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        if value.lower() not in WEEKDAYS:
            raise ValueError(f"{value!r} is not a weekday; use one of {', '.join(WEEKDAYS)}")
        return value.lower()

    @property
    def weekday_index(self) -> int:
        """The weekday as Python numbers it: 0 for Monday ... 6 for Sunday."""
        return WEEKDAYS.index(self.weekday)


def policy_for(policies: list[SlaPolicy], source: str | None) -> SlaPolicy:
    """The first policy matching the lead source; the built-in default when none does."""
    return next((p for p in policies if p.matches(source)), SlaPolicy())


class NudgeRule(enum.StrEnum):
    """The nudge rules (`[nudges] rules` names them; the values are stored in the nudge log)."""

    STALE_DEAL = "stale_deal"  # an open deal with no activity for `stale_deal_days`
    PAST_CLOSE = "past_close"  # open deals whose expected close is in the past
    NO_FORECAST = "no_forecast"  # no commit forecast for the coming quarter by its cut-off
    FEW_MEETINGS = "few_meetings"  # prospect meetings this week below target (from mid-week)
    BEHIND_PACE = "behind_pace"  # attainment below the elapsed share of the quarter, by a margin
    LOW_SELLING_TIME = "low_selling_time"  # selling share of logged minutes below target


NUDGE_RULE_NAMES = frozenset(rule.value for rule in NudgeRule)  # as the nudge log stores them


def parse_quiet_hours(text: str) -> tuple[dt.time, dt.time]:
    """`"18:00-09:00"` as (start, end) local times; the span may cross midnight."""
    try:
        start, end = (dt.time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ValueError(f"quiet hours {text!r} must look like 18:00-09:00") from None
    if start == end:
        raise ValueError(f"quiet hours {text!r} must start and end at different times")
    return start, end


class NudgeConfig(BaseModel):
    """Accountability nudges: the rules on, their thresholds, and the noise control."""

    model_config = ConfigDict(extra="forbid")

    stale_deal_days: float | None = Field(None, gt=0)  # None: `[org] stale_deal_days`
    meetings_per_week_target: float = Field(5, ge=0)
    selling_time_target: float = Field(0.35, ge=0, le=1)
    daily_budget: int = Field(3, ge=0)  # nudges per person per local day
    cooldown_days: float = Field(3, ge=0)  # per (rule, subject)
    quiet_hours: str = "18:00-09:00"  # in each person's time zone; days off are quiet too
    rules: list[NudgeRule] = Field(default_factory=lambda: list(NudgeRule))
    behind_pace_margin: float = Field(0.10, ge=0, le=1)  # attainment below elapsed - margin
    forecast_due_days: int = Field(5, ge=0)  # the coming quarter's commit is due this many
    # days before it starts (moved back to a Friday when that is a weekend)
    forecast_remind_days: int = Field(7, ge=0)  # remind from this many days before it is due
    stale_deals_per_person: int = Field(3, ge=1)  # the biggest quiet deals each person hears of
    min_logged_minutes: float = Field(600, ge=0)  # low_selling_time needs this much logged

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value.strip()

    @field_validator("rules", mode="before")
    @classmethod
    def _known_rules(cls, value: object) -> object:
        if isinstance(value, list):
            names = [rule.value for rule in NudgeRule]
            unknown = [str(name) for name in value if str(name) not in NUDGE_RULE_NAMES]
            if unknown:
                raise ValueError(
                    f"unknown rule(s) {', '.join(unknown)}; the rules are {', '.join(names)}"
                )
        return value

    def stale_days(self, org: OrgConfig) -> float:
        """Days without activity that make a deal stale: this section's, else the org's."""
        return self.stale_deal_days if self.stale_deal_days is not None else org.stale_deal_days


class SyncConfig(BaseModel):
    """Live CRM sync: how often the scheduler pulls, and custom fields per CRM object."""

    model_config = ConfigDict(extra="forbid")

    interval_minutes: float = Field(15, ge=0)  # 0: the scheduler never syncs
    salesforce_api_version: str = Field("62.0", pattern=r"^\d+\.\d$")
    # CRM object -> {native field: the CRM's field}, as `--map` on import, e.g.
    # [sync.salesforce] Opportunity = { product = "Product_Line__c" }
    salesforce: dict[str, dict[str, str]] = Field(default_factory=dict)
    hubspot: dict[str, dict[str, str]] = Field(default_factory=dict)
