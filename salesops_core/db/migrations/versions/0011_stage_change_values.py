"""deal_stage_change.amount and .probability: a deal's value as of each stage change

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

Past periods read each deal's amount and probability as they were then (kpi/asof.py).
Both are nullable: where a change did not record them, the deal's current ones are used.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deal_stage_change", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("amount", sa.Numeric(precision=18, scale=2, asdecimal=False), nullable=True)
        )
        batch_op.add_column(sa.Column("probability", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deal_stage_change", schema=None) as batch_op:
        batch_op.drop_column("probability")
        batch_op.drop_column("amount")
