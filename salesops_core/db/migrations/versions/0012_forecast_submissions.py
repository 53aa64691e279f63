"""forecast.note and .team_id (submissions in Slack, team calls); weekly forecast snapshots

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

A forecast row may carry the note its submitter wrote and, for a manager's team call, the
team. `forecast_snapshot` (+ `_line`) keep what each rep had submitted and their open
pipeline by stage, once a week.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from salesops_core.timeutil import UtcDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(precision=18, scale=2, asdecimal=False)


def upgrade() -> None:
    with op.batch_alter_table("forecast", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_forecast_team_id_team", "team", ["team_id"], ["id"], ondelete="CASCADE"
        )
    op.create_table(
        "forecast_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rep_id", sa.Integer(), nullable=False),
        sa.Column("period_start", UtcDateTime(), nullable=False),
        sa.Column("period_end", UtcDateTime(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("taken_at", UtcDateTime(), nullable=False),
        sa.Column("commit_amount", MONEY, nullable=True),
        sa.Column("best_case_amount", MONEY, nullable=True),
        sa.Column("submitted_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["rep_id"], ["rep.id"], name="fk_forecast_snapshot_rep_id_rep", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_forecast_snapshot"),
        sa.UniqueConstraint(
            "rep_id", "period_start", "period_end", "week", name="uq_forecast_snapshot_rep_id"
        ),
    )
    op.create_table(
        "forecast_snapshot_line",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=200), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("weighted", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["forecast_snapshot.id"],
            name="fk_forecast_snapshot_line_snapshot_id_forecast_snapshot",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "stage", name="pk_forecast_snapshot_line"),
    )


def downgrade() -> None:
    op.drop_table("forecast_snapshot_line")
    op.drop_table("forecast_snapshot")
    with op.batch_alter_table("forecast", schema=None) as batch_op:
        batch_op.drop_constraint("fk_forecast_team_id_team", type_="foreignkey")
        batch_op.drop_column("team_id")
        batch_op.drop_column("note")
