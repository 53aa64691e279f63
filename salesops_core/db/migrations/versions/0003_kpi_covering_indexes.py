"""kpi covering indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

Covering indexes for the KPI engine's grouped queries: each per-rep range (closed deals,
activities, leads of a period) is read from the index alone, in rep order, without a visit
to the table rows.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    (
        "ix_deal_owner_closed_cover",
        "deal",
        ["owner_id", "closed_at", "outcome", "amount", "created_at"],
    ),
    (
        "ix_activity_rep_started_cover",
        "activity",
        ["rep_id", "started_at", "type", "minutes", "external_attendee"],
    ),
    (
        "ix_lead_owner_created_cover",
        "lead",
        ["owner_id", "created_at", "first_response_at", "sla_due_at", "source"],
    ),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
