"""stage funnel covering indexes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

The stage funnel (deals created in a period, each deal's furthest stage) reads from indexes
alone: the deals of the period with their owner and current stage from
ix_deal_created_cover (created_at, owner_id, stage), and each deal's stage history from
ix_deal_stage_change_deal_entered_stage (deal_id, entered_at, stage). Each replaces the index
that was its prefix (ix_deal_created, ix_deal_stage_change_deal_entered), so inserts write no
extra index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index replaced, its columns, covering index, its columns)
REPLACED = (
    ("deal", "ix_deal_created", ["created_at"], "ix_deal_created_cover",
     ["created_at", "owner_id", "stage"]),
    ("deal_stage_change", "ix_deal_stage_change_deal_entered", ["deal_id", "entered_at"],
     "ix_deal_stage_change_deal_entered_stage", ["deal_id", "entered_at", "stage"]),
)  # fmt: skip


def upgrade() -> None:
    for table, old, _old_columns, new, new_columns in REPLACED:
        op.create_index(new, table, new_columns, unique=False)
        op.drop_index(old, table_name=table)


def downgrade() -> None:
    for table, old, old_columns, new, _new_columns in reversed(REPLACED):
        op.create_index(old, table, old_columns, unique=False)
        op.drop_index(new, table_name=table)
