"""The reports' daily rollup: volumes and every time to callback of each finished desk day.

Revision ID: 0014_report_rollup
Revises: 0013_reports
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_report_rollup"
down_revision = "0013_reports"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_day",
        sa.Column("day", sa.Date(), primary_key=True),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "calls",
                "abandoned",
                "tickets",
                "queued_p1",
                "queued_p2",
                "queued_p3",
                "queued_p4",
                "unreachable",
            )
        ),
        sa.Column("rolled_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "report_callback_times",
        sa.Column("day", sa.Date(), sa.ForeignKey("report_day.day", ondelete="CASCADE"), primary_key=True),
        sa.Column("priority", sa.Integer(), primary_key=True),
        sa.Column("milliseconds", sa.JSON(), nullable=False),
    )


def downgrade():
    op.drop_table("report_callback_times")
    op.drop_table("report_day")
