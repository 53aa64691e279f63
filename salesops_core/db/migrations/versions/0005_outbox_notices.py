"""outbox holds typed notices; a message's location is stored once

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

- outbox.payload holds a notice's facts instead of Block Kit (rendered when sent). Existing
  lead rows are rewritten from their lead; an old chat.update row points at the row of the
  message it edits through the new outbox.edits_id.
- lead.dm_channel / lead.dm_ts go: the DM's location is on its outbox row (slack_channel,
  slack_ts). outbox.lead_id goes: the outbox knows nothing about leads (the lead engine finds
  its DMs by their dedupe keys).

Downgrade restores the columns (lead_id from the dedupe keys, each lead's DM location from
its newest delivered DM); payloads keep the notice format, so unsent rows are dead-lettered.
"""

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import salesops_core.timeutil

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEAD_KINDS = ("lead_dm", "remind_rep", "alert_manager", "lead_reassigned")
KEY_LEAD = re.compile(r"^lead:(\d+):")
When = salesops_core.timeutil.UtcDateTime()

outbox = sa.table(
    "outbox",
    sa.column("id", sa.Integer),
    sa.column("dedupe_key", sa.String),
    sa.column("kind", sa.String),
    sa.column("channel", sa.String),
    sa.column("lead_id", sa.Integer),
    sa.column("payload", sa.JSON),
    sa.column("status", sa.String),
    sa.column("last_error", sa.Text),
    sa.column("slack_channel", sa.String),
    sa.column("slack_ts", sa.String),
    sa.column("sent_at", When),
    sa.column("edits_id", sa.Integer),
)
lead = sa.table(
    "lead",
    sa.column("id", sa.Integer),
    sa.column("external_id", sa.String),
    sa.column("company", sa.String),
    sa.column("source", sa.String),
    sa.column("sla_due_at", When),
    sa.column("owner_id", sa.Integer),
    sa.column("dm_channel", sa.String),
    sa.column("dm_ts", sa.String),
)
rep = sa.table("rep", sa.column("id", sa.Integer), sa.column("name", sa.String))


def _facts(row: Any) -> dict[str, Any]:
    return {
        "lead_id": row.id,
        "external_id": row.external_id,
        "company": row.company,
        "source": row.source,
        "respond_by": row.sla_due_at.isoformat() if row.sla_due_at else None,
    }


def _notice(row: Any, found: Any, edits: dict[tuple[str, str], int]) -> dict[str, Any]:
    """The notice facts of one old row, and the id it edits (KeyError: not convertible)."""
    facts = _facts(found)
    if row.kind in ("lead_dm", "remind_rep"):
        return {"payload": {"lead": facts}}
    if row.kind == "alert_manager":
        return {"payload": {"lead": facts, "owner": found.owner}}
    if row.kind == "lead_reassigned":
        return {"payload": {"lead": facts, "new_owner": found.owner or "nobody"}}
    old = row.payload
    status = str(old["text"]).split(": ", 1)[-1]
    target = edits[(row.channel, str(old["ts"]))]
    return {"payload": {"lead": facts, "status": status, "still_open": False}, "edits_id": target}


def _converted(connection: Any) -> dict[int, dict[str, Any]]:
    """New values per old lead row: its notice facts (and edit target), or dead-lettered."""
    leads = {
        row.id: row
        for row in connection.execute(
            sa.select(lead, rep.c.name.label("owner")).outerjoin(rep, rep.c.id == lead.c.owner_id)
        )
    }
    # an old chat.update row was addressed to the DM's own channel (D...) and ts
    dm_rows = {
        (channel, ts): row_id
        for row_id, channel, ts in connection.execute(
            sa.select(outbox.c.id, outbox.c.slack_channel, outbox.c.slack_ts).where(
                outbox.c.kind == "lead_dm", outbox.c.slack_ts.is_not(None)
            )
        )
    }
    old_columns = [c for c in outbox.c if c.name != "edits_id"]
    rows = connection.execute(
        sa.select(*old_columns).where(outbox.c.kind.in_((*LEAD_KINDS, "lead_dm_update")))
    ).all()
    converted: dict[int, dict[str, Any]] = {}
    for row in rows:
        found = leads.get(row.lead_id)
        try:
            if found is None:
                raise KeyError(row.lead_id)
            converted[row.id] = _notice(row, found, dm_rows)
        except (KeyError, TypeError):  # its lead is gone, or an edit of an unknown message
            if row.status != "sent":
                converted[row.id] = {"status": "dead", "last_error": "not convertible by 0005"}
    return converted


def upgrade() -> None:
    connection = op.get_bind()
    converted = _converted(connection)  # read while outbox.lead_id still exists
    # SQLite rebuilds outbox here; nothing references its rows yet, so nothing cascades
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_lead_id"))
        batch_op.drop_constraint(batch_op.f("fk_outbox_lead_id_lead"), type_="foreignkey")
        batch_op.drop_column("lead_id")
        batch_op.add_column(sa.Column("edits_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_edits_id_outbox"), "outbox", ["edits_id"], ["id"]
        )
    for row_id, values in converted.items():
        connection.execute(outbox.update().where(outbox.c.id == row_id).values(**values))
    # ALTER TABLE ... DROP COLUMN in place: rebuilding lead would cascade to its children
    with op.batch_alter_table("lead", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("dm_ts")
        batch_op.drop_column("dm_channel")


def downgrade() -> None:
    connection = op.get_bind()
    known = set(connection.scalars(sa.select(lead.c.id)))
    rows = connection.execute(
        sa.select(
            outbox.c.id,
            outbox.c.dedupe_key,
            outbox.c.kind,
            outbox.c.status,
            outbox.c.slack_channel,
            outbox.c.slack_ts,
        ).order_by(outbox.c.sent_at, outbox.c.id)
    ).all()
    connection.execute(outbox.update().values(edits_id=None))  # so outbox can be rebuilt
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_edits_id_outbox"), type_="foreignkey")
        batch_op.drop_column("edits_id")
        batch_op.add_column(sa.Column("lead_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_lead_id_lead"), "lead", ["lead_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index(batch_op.f("ix_outbox_lead_id"), ["lead_id"], unique=False)
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dm_channel", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("dm_ts", sa.String(length=32), nullable=True))
    for row in rows:
        match = KEY_LEAD.match(row.dedupe_key)
        lead_id = int(match.group(1)) if match and int(match.group(1)) in known else None
        values: dict[str, Any] = {"lead_id": lead_id}
        if row.status in ("pending", "sending"):
            values |= {"status": "dead", "last_error": "notice format: downgraded past 0005"}
        connection.execute(outbox.update().where(outbox.c.id == row.id).values(**values))
        if lead_id and row.kind == "lead_dm" and row.status == "sent" and row.slack_ts:
            connection.execute(  # newest delivered DM last, so it wins
                lead.update()
                .where(lead.c.id == lead_id)
                .values(dm_channel=row.slack_channel, dm_ts=row.slack_ts)
            )
