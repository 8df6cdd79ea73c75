"""Remediation plans and the plans apply_remediation carried out.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def _job_id(table: str) -> sa.Column:
    return sa.Column("data_job_id", ID, sa.ForeignKey("data_jobs.id", ondelete="CASCADE",
                                                      name=f"fk_{table}_data_job_id_data_jobs"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "remediation_plans",
        sa.Column("id", ID, autoincrement=True),
        sa.Column("plan_id", sa.Text, nullable=False),
        _job_id("remediation_plans"),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("expected_monthly_savings_usd", sa.Float),
        sa.Column("applicable", sa.Boolean, nullable=False),
        sa.Column("plan", JSON, nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_remediation_plans"),
        sa.UniqueConstraint("plan_id", name="uq_remediation_plans_plan_id"),
    )
    op.create_index("ix_remediation_plans_data_job_id", "remediation_plans", ["data_job_id"])
    op.create_table(
        "remediation_applications",
        sa.Column("id", ID, autoincrement=True),
        _job_id("remediation_applications"),
        sa.Column("plan_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("dagster_run_id", sa.Text, nullable=False),
        sa.Column("applied_at", WHEN, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_remediation_applications"),
    )
    op.create_index("ix_remediation_applications_data_job_id", "remediation_applications", ["data_job_id"])


def downgrade() -> None:
    op.drop_table("remediation_applications")
    op.drop_table("remediation_plans")
