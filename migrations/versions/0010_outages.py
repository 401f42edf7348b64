"""Outages and the caller's own time: incidents, announcements, callback windows.

Revision ID: 0010_outages
Revises: 0008_call_outcome
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_outages"
down_revision = "0009_directory"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("problem_ticket_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_ticket_problem_ticket_id_ticket", "ticket", ["problem_ticket_id"], ["id"])
        batch.create_index("ix_ticket_problem_ticket_id", ["problem_ticket_id"])
    with op.batch_alter_table("callback") as batch:
        batch.add_column(sa.Column("scheduled_for", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("window_ends_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("moves", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch.add_column(sa.Column("cancelled_by", sa.String(length=10), nullable=True))
    with op.batch_alter_table("autotask_ticket") as batch:
        batch.add_column(sa.Column("pushed_type", sa.String(length=30), nullable=True))
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("company.id"), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("say_nl", sa.String(length=500), nullable=False),
        sa.Column("say_fr", sa.String(length=500), nullable=False),
        sa.Column("say_en", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=False),
        sa.Column("opened_by", sa.String(length=80), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_incident_status", "incident", ["status"])
    op.create_table(
        "incident_member",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=True),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_incident_member_incident_id", "incident_member", ["incident_id"])
    op.create_index("uq_incident_member_phone", "incident_member", ["incident_id", "phone"], unique=True)
    op.create_table(
        "incident_update",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("text_nl", sa.Text(), nullable=False),
        sa.Column("text_fr", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("posted_by", sa.String(length=80), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_incident_update_incident_id", "incident_update", ["incident_id"])
    op.create_table(
        "announcement",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_announcement_ends_at", "announcement", ["ends_at"])


def downgrade():
    op.drop_table("announcement")
    op.drop_table("incident_update")
    op.drop_table("incident_member")
    op.drop_table("incident")
    with op.batch_alter_table("autotask_ticket") as batch:
        batch.drop_column("pushed_type")
    with op.batch_alter_table("callback") as batch:
        batch.drop_column("cancelled_by")
        batch.drop_column("moves")
        batch.drop_column("window_ends_at")
        batch.drop_column("scheduled_for")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_index("ix_ticket_problem_ticket_id")
        batch.drop_constraint("fk_ticket_problem_ticket_id_ticket", type_="foreignkey")
        batch.drop_column("problem_ticket_id")
