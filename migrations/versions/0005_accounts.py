"""accounts: people who log in to the board and console, and API tokens

Revision ID: 0005_accounts
Revises: cd465cf922b1
Create Date: 2026-11-27 16:00:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0005_accounts"
down_revision = "cd465cf922b1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["technician_id"], ["technician.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
        sa.UniqueConstraint("technician_id"),
        sa.UniqueConstraint("token_hash"),
    )


def downgrade():
    op.drop_table("user_account")
