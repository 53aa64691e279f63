"""outbox follow-ups, and recipients looked up by email when sent

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

- outbox.follows_id: a follow-up (a digest's chart) waits until the row it follows has been
  delivered, then goes into the same conversation.
- outbox.channel grows from 64 to 600 characters: besides a Slack id it may hold a mailbox,
  "Name <email>", that the dispatcher looks up (users.lookupByEmail) when it sends.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

outbox = sa.table(
    "outbox",
    sa.column("channel", sa.String),
    sa.column("status", sa.String),
    sa.column("last_error", sa.Text),
    sa.column("follows_id", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column(
            "channel",
            existing_type=sa.String(length=64),
            type_=sa.String(length=600),
            existing_nullable=True,
        )
        batch_op.add_column(sa.Column("follows_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_follows_id_outbox"), "outbox", ["follows_id"], ["id"]
        )


def downgrade() -> None:
    connection = op.get_bind()
    unsendable = sa.or_(outbox.c.follows_id.is_not(None), outbox.c.channel.contains("<"))
    connection.execute(  # a follow-up or a mailbox recipient means nothing to 0005
        outbox.update()
        .where(unsendable, outbox.c.status.in_(("pending", "sending")))
        .values(status="dead", last_error="follow-up or mailbox: downgraded past 0006")
    )
    connection.execute(
        outbox.update()
        .where(sa.func.length(outbox.c.channel) > 64)
        .values(channel=sa.func.substr(outbox.c.channel, 1, 64))
    )
    connection.execute(outbox.update().values(follows_id=None))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_follows_id_outbox"), type_="foreignkey")
        batch_op.drop_column("follows_id")
        batch_op.alter_column(
            "channel",
            existing_type=sa.String(length=600),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
