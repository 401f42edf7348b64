"""Urgent calls held in a provider queue: each technician's leg is a call of its own;
answering-machine detection on a callback's customer leg, and callbacks flagged for a wrong number.

Revision ID: 0012_real_phones
Revises: 0008_call_outcome
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_real_phones"
down_revision = "0011_security"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("urgent_transfer") as batch:
        batch.add_column(sa.Column("stage_since", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("oncall_sid", sa.String(length=64), nullable=True))
    with op.batch_alter_table("urgent_ring") as batch:
        batch.add_column(sa.Column("call_sid", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("answered_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_urgent_ring_call_sid", ["call_sid"])
    with op.batch_alter_table("callback_attempt") as batch:
        batch.add_column(sa.Column("answered_by", sa.String(length=20), nullable=True))
    with op.batch_alter_table("callback") as batch:
        batch.add_column(sa.Column("wrong_number", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("callback") as batch:
        batch.drop_column("wrong_number")
    with op.batch_alter_table("callback_attempt") as batch:
        batch.drop_column("answered_by")
    with op.batch_alter_table("urgent_ring") as batch:
        batch.drop_index("ix_urgent_ring_call_sid")
        batch.drop_column("answered_at")
        batch.drop_column("call_sid")
    with op.batch_alter_table("urgent_transfer") as batch:
        batch.drop_column("oncall_sid")
        batch.drop_column("stage_since")
