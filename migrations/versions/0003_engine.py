"""The complete callback engine: unreachable notices, one open attempt per callback and per technician.

Revision ID: 0003_engine
Revises: cd465cf922b1
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_engine"
down_revision = "cd465cf922b1"
branch_labels = None
depends_on = None

OPEN = sa.text("status != 'ended'")


def upgrade():
    with op.batch_alter_table("callback") as batch_op:
        batch_op.add_column(sa.Column("notice_sent_at", sa.DateTime(), nullable=True))
    op.create_index(
        "uq_attempt_open_callback",
        "callback_attempt",
        ["callback_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_index(
        "uq_attempt_open_technician",
        "callback_attempt",
        ["technician_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade():
    op.drop_index("uq_attempt_open_technician", table_name="callback_attempt")
    op.drop_index("uq_attempt_open_callback", table_name="callback_attempt")
    with op.batch_alter_table("callback") as batch_op:
        batch_op.drop_column("notice_sent_at")
