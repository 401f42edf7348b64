"""Join the branches the first features grew on (IVR, engine, Autotask/survey, accounts, urgent).

Revision ID: 0007_merge
Revises: 0002_ivr, 0003_engine, 0004_autotask_survey, 0005_accounts, 0006_urgent
"""

revision = "0007_merge"
down_revision = ("0002_ivr", "0003_engine", "0004_autotask_survey", "0005_accounts", "0006_urgent")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
