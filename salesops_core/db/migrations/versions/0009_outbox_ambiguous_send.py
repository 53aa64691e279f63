"""outbox: the time a send began whose outcome Slack never told us

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

- outbox.ambiguous_since: set when a chat.postMessage of the row starts, cleared when Slack's
  answer says what happened. A row claimed with it set may already be in Slack: the
  dispatcher looks for the message by its dedupe key in the conversation's history first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import salesops_core.timeutil

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ambiguous_since", salesops_core.timeutil.UtcDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("ambiguous_since")
