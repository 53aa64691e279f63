"""drop redundant indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

Each index dropped here leads with the same columns as a wider index that stays, so every
lookup it served is served by the wider one, and each insert writes one index fewer:

- ix_deal_owner_closed (owner_id, closed_at): the prefix of ix_deal_owner_closed_cover.
- ix_activity_rep_started (rep_id, started_at): the prefix of ix_activity_rep_started_cover.
- ix_lead_owner_created (owner_id, created_at): the prefix of ix_lead_owner_created_cover.
- ix_forecast_rep_period (rep_id, period_start, submitted_at): the unique constraint's index
  uq_forecast_rep_id (rep_id, period_start, period_end, category, submitted_at) has the same
  leading pair and holds submitted_at too; forecasts are only ever read by a range on
  period_start, past which neither index can seek.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REDUNDANT = (
    ("ix_deal_owner_closed", "deal", ["owner_id", "closed_at"]),
    ("ix_activity_rep_started", "activity", ["rep_id", "started_at"]),
    ("ix_lead_owner_created", "lead", ["owner_id", "created_at"]),
    ("ix_forecast_rep_period", "forecast", ["rep_id", "period_start", "submitted_at"]),
)


def upgrade() -> None:
    for name, table, _columns in REDUNDANT:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in reversed(REDUNDANT):
        op.create_index(name, table, columns, unique=False)
