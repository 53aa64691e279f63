"""nudges: the nudge log, mutes ("not relevant") and each person's nudge settings

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import salesops_core.timeutil

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

When = salesops_core.timeutil.UtcDateTime()


def upgrade() -> None:
    op.create_table(
        "nudge_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rep_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent_at", When, nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=True),
        sa.Column("acted_on_at", When, nullable=True),
        sa.Column("acted_how", sa.String(length=32), nullable=True),
        sa.Column("acted_by_id", sa.Integer(), nullable=True),
        sa.Column("snoozed_until", When, nullable=True),
        sa.ForeignKeyConstraint(
            ["acted_by_id"], ["rep.id"], name=op.f("fk_nudge_log_acted_by_id_rep")
        ),
        sa.ForeignKeyConstraint(
            ["rep_id"], ["rep.id"], name=op.f("fk_nudge_log_rep_id_rep"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nudge_log")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_nudge_log_dedupe_key")),
    )
    op.create_index(
        "ix_nudge_log_rep_rule_subject", "nudge_log", ["rep_id", "rule", "subject"], unique=False
    )
    op.create_index(op.f("ix_nudge_log_sent_at"), "nudge_log", ["sent_at"], unique=False)
    op.create_index(
        op.f("ix_nudge_log_snoozed_until"), "nudge_log", ["snoozed_until"], unique=False
    )
    op.create_table(
        "nudge_mute",
        sa.Column("rep_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("muted_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["rep_id"], ["rep.id"], name=op.f("fk_nudge_mute_rep_id_rep"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("rep_id", "rule", "subject", name=op.f("pk_nudge_mute")),
    )
    op.create_table(
        "nudge_settings",
        sa.Column("rep_id", sa.Integer(), nullable=False),
        sa.Column("quiet_hours", sa.String(length=16), nullable=True),
        sa.Column("rules_off", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rep_id"], ["rep.id"], name=op.f("fk_nudge_settings_rep_id_rep"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("rep_id", name=op.f("pk_nudge_settings")),
    )


def downgrade() -> None:
    op.drop_table("nudge_settings")
    op.drop_table("nudge_mute")
    op.drop_index(op.f("ix_nudge_log_snoozed_until"), table_name="nudge_log")
    op.drop_index(op.f("ix_nudge_log_sent_at"), table_name="nudge_log")
    op.drop_index("ix_nudge_log_rep_rule_subject", table_name="nudge_log")
    op.drop_table("nudge_log")
