"""Security: a ticket opened for an unverified caller names the ticket they asked about;
accounts can be disabled and their sessions revoked.

Revision ID: 0011_security
Revises: 0008_call_outcome
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_security"
down_revision = "0010_outages"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("related_ticket_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_ticket_related_ticket_id", "ticket", ["related_ticket_id"], ["id"])
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("session_version")
        batch.drop_column("active")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_constraint("fk_ticket_related_ticket_id", type_="foreignkey")
        batch.drop_column("related_ticket_id")
