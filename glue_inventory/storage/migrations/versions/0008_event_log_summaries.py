"""The cache of parsed Spark event log summaries, by S3 location and ETag.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "event_log_summaries",
        sa.Column("id", ID, autoincrement=True),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("etag", sa.Text, nullable=False),
        sa.Column("summary_version", sa.Integer, nullable=False),
        sa.Column("max_bytes", sa.BigInteger, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("summary", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_event_log_summaries"),
        sa.UniqueConstraint("location", "etag", "summary_version", "max_bytes",
                            name="uq_event_log_summaries_location_etag_summary_version_max_bytes"),
    )


def downgrade() -> None:
    op.drop_table("event_log_summaries")
