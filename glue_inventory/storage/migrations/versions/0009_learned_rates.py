"""The request rate learned per account, Region and API family (adaptive pacing).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learned_rates",
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("api_family", sa.Text, nullable=False),
        sa.Column("requests_per_second", sa.Float, nullable=False),
        sa.Column("limit_found", sa.Boolean, nullable=False),
        sa.Column("calls", sa.Integer, nullable=False),
        sa.Column("throttled", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "region", "api_family", name="pk_learned_rates"),
    )


def downgrade() -> None:
    op.drop_table("learned_rates")
