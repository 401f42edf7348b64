"""The complete IVR: transcripts and the out-of-hours urgent line on the call.

Revision ID: 0002_ivr
Revises: cd465cf922b1
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_ivr"
down_revision = "cd465cf922b1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("call") as batch_op:
        batch_op.add_column(sa.Column("transcript", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("urgent_line", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("call") as batch_op:
        batch_op.drop_column("urgent_line")
        batch_op.drop_column("transcript")
