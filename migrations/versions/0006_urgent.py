"""Urgent transfers: the live transfer of an urgent call and the technicians it rang.

Revision ID: 0006_urgent
Revises: cd465cf922b1
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_urgent"
down_revision = "cd465cf922b1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "urgent_transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("oncall_only", sa.Boolean(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("taken_by_oncall", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("connected_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["technician_id"], ["technician.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_sid"),
    )
    op.create_index("ix_urgent_transfer_status", "urgent_transfer", ["status"])
    op.create_table(
        "urgent_ring",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["technician_id"], ["technician.id"]),
        sa.ForeignKeyConstraint(["transfer_id"], ["urgent_transfer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_urgent_ring_transfer_id", "urgent_ring", ["transfer_id"])


def downgrade():
    op.drop_index("ix_urgent_ring_transfer_id", table_name="urgent_ring")
    op.drop_table("urgent_ring")
    op.drop_index("ix_urgent_transfer_status", table_name="urgent_transfer")
    op.drop_table("urgent_transfer")
