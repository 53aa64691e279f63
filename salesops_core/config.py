"""Typed configuration values the domain needs. Loading them is the entry point's job."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin"
        ) from None
    return name


class OrgConfig(BaseModel):
    """The org: time zone, fiscal calendar and KPI knobs."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = "UTC"
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    stale_deal_days: float = Field(14, gt=0)
    holiday_country: str | None = None  # e.g. "US"; reps may override

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _check_timezone(value)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


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


class DigestConfig(BaseModel):
    """When the weekly manager digest goes out, in each recipient's time zone."""

    model_config = ConfigDict(extra="forbid")

    weekday: str = "monday"
    time: dt.time = dt.time(9, 0)

    @field_validator("weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        if value.lower() not in days:
            raise ValueError(f"weekday must be one of {', '.join(days)}")
        return value.lower()


def policy_for(policies: list[SlaPolicy], source: str | None) -> SlaPolicy:
    """The first policy matching the lead source; the built-in default when none does."""
    return next((p for p in policies if p.matches(source)), SlaPolicy())
