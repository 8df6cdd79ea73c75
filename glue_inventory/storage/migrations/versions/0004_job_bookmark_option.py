"""Jobs keep the value of --job-bookmark-option, the one argument value the bookmark rules need.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("data_jobs") as batch:
        batch.add_column(sa.Column("job_bookmark_option", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("data_jobs") as batch:
        batch.drop_column("job_bookmark_option")
