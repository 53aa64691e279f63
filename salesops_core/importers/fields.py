"""What a CSV import can hold: the kinds, the column layouts and each kind's native fields.

The native columns are a contract (DESIGN.md section 3). Nothing here imports the database or
pandas, so the CLI can name the kinds and formats in its help without loading the importer.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

KINDS = ("reps", "deals", "leads", "activities", "quotas", "forecasts", "stage_changes")
FORMATS = ("native", "salesforce", "hubspot")

# Native CSV columns (DESIGN.md section 3) followed by extra fields any format may map:
# close_date (a CRM's CloseDate: the expected close, and for a closed deal also its close time,
# so a past period's coverage still counts the deals that have closed since), is_closed/is_won
# (outcome flags), duration_seconds, crm_user_id (the rep's id in the CRM), responded_by.
FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "reps": (
            "name", "email", "team", "manager", "region", "role", "slack_user_id",
            "timezone", "active", "crm_user_id",
        ),
        "deals": (
            "external_id", "name", "account", "owner", "amount", "currency", "stage",
            "probability", "created_at", "expected_close", "closed_at", "outcome", "product",
            "forecast_category", "close_date", "is_closed", "is_won",
        ),
        "leads": (
            "external_id", "owner", "source", "company", "created_at", "first_response_at",
            "responded_by",
        ),
        "activities": (
            "external_id", "owner", "type", "started_at", "minutes", "deal_external_id",
            "lead_external_id", "external_attendee", "duration_seconds",
        ),
        "quotas": ("owner", "period_start", "period_end", "amount"),
        "forecasts": ("owner", "period_start", "period_end", "amount", "category", "submitted_at"),
        "stage_changes": ("deal_external_id", "stage", "entered_at", "amount", "probability"),
    }
)  # fmt: skip

REQUIRED: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "reps": ("name",),
        "deals": ("external_id", "owner", "stage", "created_at"),
        "leads": ("external_id", "created_at"),
        "activities": ("external_id", "owner", "type", "started_at"),
        "quotas": ("owner", "period_start", "period_end", "amount"),
        "forecasts": ("owner", "period_start", "period_end", "amount", "submitted_at"),
        "stage_changes": ("deal_external_id", "stage", "entered_at"),
    }
)
