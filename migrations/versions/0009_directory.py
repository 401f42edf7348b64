"""The directory is real data: active flags, contract dates, switchboard numbers, Autotask ids;
technicians can be deactivated.

Revision ID: 0009_directory
Revises: 0008_call_outcome
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_directory"
down_revision = "0008_call_outcome"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("company") as batch:
        batch.add_column(sa.Column("contract_starts", sa.Date(), nullable=True))
        batch.add_column(sa.Column("contract_ends", sa.Date(), nullable=True))
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("autotask_id", sa.Integer(), nullable=True))
        batch.create_unique_constraint("uq_company_autotask_id", ["autotask_id"])
        batch.create_index("ix_company_name", ["name"])
    with op.batch_alter_table("contact") as batch:
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("autotask_id", sa.Integer(), nullable=True))
        batch.create_unique_constraint("uq_contact_autotask_id", ["autotask_id"])
        batch.create_index("ix_contact_name", ["name"])
        batch.create_index("ix_contact_company_id", ["company_id"])
    with op.batch_alter_table("contact_phone") as batch:
        batch.create_index("ix_contact_phone_contact_id", ["contact_id"])
    op.create_table(
        "company_phone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("e164"),
    )
    op.create_index("ix_company_phone_company_id", "company_phone", ["company_id"])
    op.create_table(
        "autotask_contract",
        sa.Column("autotask_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("autotask_company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("starts", sa.Date(), nullable=True),
        sa.Column("ends", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("autotask_id"),
    )
    op.create_index("ix_autotask_contract_autotask_company_id", "autotask_contract", ["autotask_company_id"])
    op.create_table(
        "directory_sync",
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("since", sa.String(length=40), nullable=True),
        sa.Column("after_id", sa.Integer(), nullable=False),
        sa.Column("pass_started", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("entity"),
    )
    with op.batch_alter_table("autotask_ticket") as batch:
        batch.add_column(sa.Column("pushed_title", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("pushed_description", sa.Text(), nullable=True))
    with op.batch_alter_table("technician") as batch:
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    with op.batch_alter_table("autotask_ticket") as batch:
        batch.drop_column("pushed_description")
        batch.drop_column("pushed_title")
    op.drop_table("directory_sync")
    op.drop_index("ix_autotask_contract_autotask_company_id", table_name="autotask_contract")
    op.drop_table("autotask_contract")
    with op.batch_alter_table("technician") as batch:
        batch.drop_column("active")
    op.drop_index("ix_company_phone_company_id", table_name="company_phone")
    op.drop_table("company_phone")
    with op.batch_alter_table("contact_phone") as batch:
        batch.drop_index("ix_contact_phone_contact_id")
    with op.batch_alter_table("contact") as batch:
        batch.drop_index("ix_contact_company_id")
        batch.drop_index("ix_contact_name")
        batch.drop_constraint("uq_contact_autotask_id", type_="unique")
        batch.drop_column("autotask_id")
        batch.drop_column("active")
    with op.batch_alter_table("company") as batch:
        batch.drop_index("ix_company_name")
        batch.drop_constraint("uq_company_autotask_id", type_="unique")
        batch.drop_column("autotask_id")
        batch.drop_column("active")
        batch.drop_column("contract_ends")
        batch.drop_column("contract_starts")
