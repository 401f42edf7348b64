"""Autotask mirror (tickets, notes, phone index) and satisfaction surveys

Revision ID: 0004_autotask_survey
Revises: cd465cf922b1
Create Date: 2026-11-28 10:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004_autotask_survey"
down_revision = "cd465cf922b1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "autotask_ticket",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("autotask_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=50), nullable=False),
        sa.Column("provisional_number", sa.String(length=20), nullable=True),
        sa.Column("autotask_company_id", sa.Integer(), nullable=True),
        sa.Column("autotask_contact_id", sa.Integer(), nullable=True),
        sa.Column("sync_state", sa.String(length=10), nullable=False),
        sa.Column("pushed_status", sa.String(length=20), nullable=True),
        sa.Column("pushed_priority", sa.Integer(), nullable=True),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("ticket_id"),
        sa.UniqueConstraint("autotask_id"),
        sa.UniqueConstraint("provisional_number"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("autotask_ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_autotask_ticket_sync_state"), ["sync_state"], unique=False)

    op.create_table(
        "autotask_note",
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("autotask_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["note_id"], ["ticket_note.id"]),
        sa.PrimaryKeyConstraint("note_id"),
    )
    op.create_table(
        "autotask_phone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=False),
        sa.Column("autotask_company_id", sa.Integer(), nullable=False),
        sa.Column("autotask_contact_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("autotask_phone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_autotask_phone_e164"), ["e164"], unique=False)

    op.create_table(
        "survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("state_since", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rated_at", sa.DateTime(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("commented_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id"),
    )
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_sent_at"), ["sent_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_rated_at"), ["rated_at"], unique=False)


def downgrade():
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_rated_at"))
        batch_op.drop_index(batch_op.f("ix_survey_sent_at"))
        batch_op.drop_index(batch_op.f("ix_survey_state"))
    op.drop_table("survey")
    with op.batch_alter_table("autotask_phone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_autotask_phone_e164"))
    op.drop_table("autotask_phone")
    op.drop_table("autotask_note")
    with op.batch_alter_table("autotask_ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_autotask_ticket_sync_state"))
    op.drop_table("autotask_ticket")
