"""Accounts of an Organization on platforms; the bill per job (CUR); remediation events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("platforms") as batch:
        batch.add_column(sa.Column("account_name", sa.Text))
        batch.add_column(sa.Column("ou_path", sa.Text))
        batch.add_column(sa.Column("source", sa.Text, nullable=False, server_default="config"))
    with op.batch_alter_table("deep_analysis_candidates") as batch:
        batch.add_column(sa.Column("savings_basis", sa.Text))
    op.create_table(
        "job_billed_costs",
        sa.Column("id", ID, autoincrement=True),
        sa.Column("data_job_id", ID, sa.ForeignKey("data_jobs.id", ondelete="SET NULL",
                                                   name="fk_job_billed_costs_data_job_id_data_jobs")),
        sa.Column("resource_id", sa.Text, nullable=False),
        sa.Column("account_id", sa.Text),
        sa.Column("region", sa.Text),
        sa.Column("billing_period", sa.Text, nullable=False),
        sa.Column("usage_date", sa.Date, nullable=False),
        sa.Column("operation", sa.Text, nullable=False),
        sa.Column("usage_type", sa.Text, nullable=False),
        sa.Column("line_item_type", sa.Text, nullable=False),
        sa.Column("usage_amount", sa.Float, nullable=False),
        sa.Column("unblended_cost_usd", sa.Float, nullable=False),
        sa.Column("net_cost_usd", sa.Float),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_billed_costs"),
        sa.UniqueConstraint("billing_period", "resource_id", "usage_date", "operation", "usage_type",
                            "line_item_type", name="uq_job_billed_costs_line_item"),
    )
    op.create_index("ix_job_billed_costs_data_job_id", "job_billed_costs", ["data_job_id"])
    op.create_index("ix_job_billed_costs_usage_date", "job_billed_costs", ["usage_date"])
    op.create_table(
        "remediation_events",
        sa.Column("id", ID, autoincrement=True),
        sa.Column("data_job_id", ID, sa.ForeignKey("data_jobs.id", ondelete="CASCADE",
                                                   name="fk_remediation_events_data_job_id_data_jobs"),
                  nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("plan_id", sa.Text),
        sa.Column("detected_at", WHEN, nullable=False),
        sa.Column("before", JSON),
        sa.Column("after", JSON),
        sa.Column("monthly_cost_before_usd", sa.Float),
        sa.Column("monthly_cost_after_usd", sa.Float),
        sa.Column("applied_by", sa.Text, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_remediation_events"),
    )
    op.create_index("ix_remediation_events_data_job_id", "remediation_events", ["data_job_id"])
    op.create_index("ix_remediation_events_detected_at", "remediation_events", ["detected_at"])


def downgrade() -> None:
    op.drop_table("remediation_events")
    op.drop_table("job_billed_costs")
    with op.batch_alter_table("deep_analysis_candidates") as batch:
        batch.drop_column("savings_basis")
    with op.batch_alter_table("platforms") as batch:
        batch.drop_column("source")
        batch.drop_column("ou_path")
        batch.drop_column("account_name")
