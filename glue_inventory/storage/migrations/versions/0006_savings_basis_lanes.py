"""Candidates keep their savings by basis (measured, exact, rule of thumb) and the deep-analysis lane and rank
that chose them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("deep_analysis_candidates") as batch:
        batch.add_column(sa.Column("savings_by_basis", JSON))
        batch.add_column(sa.Column("savings_identified_usd", sa.Float))
        batch.add_column(sa.Column("savings_potential_usd", sa.Float))
        batch.add_column(sa.Column("deep_lane", sa.Text))
        batch.add_column(sa.Column("deep_rank", sa.Integer))
    # The old bases said what the cost was taken from (estimate, billed), not what the saving rests on: unknown
    # for earlier lists; the next candidate list writes the new ones.
    op.execute("UPDATE deep_analysis_candidates SET savings_basis = NULL "
               "WHERE savings_basis IN ('estimate', 'billed')")


def downgrade() -> None:
    with op.batch_alter_table("deep_analysis_candidates") as batch:
        for column in ("deep_rank", "deep_lane", "savings_potential_usd", "savings_identified_usd",
                       "savings_by_basis"):
            batch.drop_column(column)
