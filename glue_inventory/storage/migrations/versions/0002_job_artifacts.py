"""The latest output of each per-job deep-analysis asset.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "job_artifacts",
        sa.Column("id", ID, autoincrement=True),
        sa.Column("data_job_id", ID, sa.ForeignKey("data_jobs.id", ondelete="CASCADE",
                                                   name="fk_job_artifacts_data_job_id_data_jobs"), nullable=False),
        sa.Column("asset", sa.Text, nullable=False),
        sa.Column("dagster_run_id", sa.Text, nullable=False),
        sa.Column("content", JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_artifacts"),
        sa.UniqueConstraint("data_job_id", "asset", name="uq_job_artifacts_data_job_id_asset"),
    )


def downgrade() -> None:
    op.drop_table("job_artifacts")
