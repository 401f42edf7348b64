"""Reports: indexes for the figures over a date range; the language of a person's pages.

Revision ID: 0013_reports
Revises: 0008_call_outcome
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_reports"
down_revision = "0012_real_phones"
branch_labels = None
depends_on = None

#: (index, table, column): every timestamp a report groups by.
INDEXES = (
    ("ix_call_started_at", "call", "started_at"),
    ("ix_ticket_created_at", "ticket", "created_at"),
    ("ix_callback_queued_at", "callback", "queued_at"),
    ("ix_callback_ended_at", "callback", "ended_at"),
    ("ix_callback_attempt_started_at", "callback_attempt", "started_at"),
    ("ix_callback_attempt_ended_at", "callback_attempt", "ended_at"),
    ("ix_survey_commented_at", "survey", "commented_at"),
    ("ix_urgent_transfer_started_at", "urgent_transfer", "started_at"),
)


def upgrade():
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("language", sa.String(length=2), nullable=True))


def downgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("language")
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
