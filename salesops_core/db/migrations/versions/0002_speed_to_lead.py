"""speed to lead: outbox, ladder, assignment log, round robin

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

The lead ladder (step, next due time indexed for the sweep, snooze, the lead DM to update),
the outbox (delivered-once messages), the lead assignment log and round-robin state.
Existing leads keep next_due_at NULL: imported history never starts a ladder.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import salesops_core.timeutil

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "round_robin_state",
        sa.Column("rep_id", sa.Integer(), nullable=False),
        sa.Column("pass_value", sa.Float(), nullable=False),
        sa.Column("assigned_count", sa.Integer(), nullable=False),
        sa.Column("last_assigned_at", salesops_core.timeutil.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["rep_id"], ["rep.id"], name=op.f("fk_round_robin_state_rep_id_rep"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("rep_id", name=op.f("pk_round_robin_state")),
    )
    op.create_table(
        "lead_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("from_rep_id", sa.Integer(), nullable=True),
        sa.Column("to_rep_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("at", salesops_core.timeutil.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_rep_id"], ["rep.id"], name=op.f("fk_lead_assignment_from_rep_id_rep")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["lead.id"],
            name=op.f("fk_lead_assignment_lead_id_lead"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_rep_id"], ["rep.id"], name=op.f("fk_lead_assignment_to_rep_id_rep")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_assignment")),
    )
    with op.batch_alter_table("lead_assignment", schema=None) as batch_op:
        batch_op.create_index("ix_lead_assignment_lead_at", ["lead_id", "at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "dead",
                name="outbox_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", salesops_core.timeutil.UtcDateTime(), nullable=False),
        sa.Column("lease_expires_at", salesops_core.timeutil.UtcDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("slack_ts", sa.String(length=32), nullable=True),
        sa.Column("slack_channel", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", salesops_core.timeutil.UtcDateTime(), nullable=False),
        sa.Column("sent_at", salesops_core.timeutil.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["lead.id"], name=op.f("fk_outbox_lead_id_lead"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(
            "ix_outbox_status_next_attempt", ["status", "next_attempt_at"], unique=False
        )

    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ladder_step", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("next_due_at", salesops_core.timeutil.UtcDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("snoozed_until", salesops_core.timeutil.UtcDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("dm_channel", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("dm_ts", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_lead_next_due_at"), ["next_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_next_due_at"))
        batch_op.drop_column("dm_ts")
        batch_op.drop_column("dm_channel")
        batch_op.drop_column("snoozed_until")
        batch_op.drop_column("next_due_at")
        batch_op.drop_column("ladder_step")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_next_attempt")
        batch_op.drop_index(batch_op.f("ix_outbox_lead_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("lead_assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_assignment_lead_at")

    op.drop_table("lead_assignment")
    op.drop_table("round_robin_state")
