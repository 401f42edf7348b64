"""How far each inbound call got with the IVR; calls that ended without an outcome were abandoned.

Revision ID: 0008_call_outcome
Revises: 0007_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_call_outcome"
down_revision = "0007_merge"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("call") as batch:
        batch.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
        batch.create_index("ix_call_ended_at", ["ended_at"])
    # Calls from before: what their rows still tell.
    call = sa.table(
        "call",
        sa.column("sid", sa.String),
        sa.column("outcome", sa.String),
        sa.column("ticket_id", sa.Integer),
        sa.column("callback_id", sa.Integer),
    )
    transfers = sa.select(sa.table("urgent_transfer", sa.column("call_sid", sa.String)).c.call_sid)
    unknown = call.c.outcome.is_(None)
    op.execute(call.update().where(call.c.callback_id.is_not(None)).values(outcome="queued"))
    op.execute(call.update().where(unknown, call.c.sid.in_(transfers)).values(outcome="put_through"))
    op.execute(call.update().where(unknown, call.c.ticket_id.is_not(None)).values(outcome="ticket_read"))


def downgrade():
    with op.batch_alter_table("call") as batch:
        batch.drop_index("ix_call_ended_at")
        batch.drop_column("outcome")
