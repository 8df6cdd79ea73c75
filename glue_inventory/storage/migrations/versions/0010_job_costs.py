"""Billed fields get a table of their own (`job_costs`), written by `glue_billed_costs` alone.

Until now the bill was merged into `data_jobs.metrics` by two stages; the merged fields move here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BILLED_FIELDS = ("billed_30d_usd", "billed_net_30d_usd", "billed_dpu_hours_30d", "estimate_billed_days_usd",
                 "billed_difference_usd", "billed_difference_cause", "billed_far_above_estimate", "cost_basis",
                 "billed_unavailable_reason")


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "job_costs",
        sa.Column("data_job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  sa.ForeignKey("data_jobs.id", ondelete="CASCADE", name="fk_job_costs_data_job_id_data_jobs"),
                  nullable=False),
        sa.Column("fields", _json(), nullable=False),
        sa.Column("dagster_run_id", sa.Text()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("data_job_id", name="pk_job_costs"),
    )
    _move_billed_fields()


def _move_billed_fields() -> None:
    """The billed fields stored in `data_jobs.metrics` move to `job_costs` (nothing is lost on upgrade)."""
    conn = op.get_bind()
    jobs = sa.table("data_jobs", sa.column("id"), sa.column("metrics", _json()))
    costs = sa.table("job_costs", sa.column("data_job_id"), sa.column("fields", _json()), sa.column("updated_at"))
    now = sa.func.now() if conn.dialect.name == "postgresql" else sa.func.current_timestamp()
    for job_id, metrics in conn.execute(sa.select(jobs.c.id, jobs.c.metrics)).all():
        billed = {key: metrics[key] for key in BILLED_FIELDS if metrics and key in metrics}
        if not billed:
            continue
        conn.execute(costs.insert().values(data_job_id=job_id, fields=billed, updated_at=now))
        rest = {key: value for key, value in metrics.items() if key not in BILLED_FIELDS}
        conn.execute(jobs.update().where(jobs.c.id == job_id).values(metrics=rest))


def downgrade() -> None:
    op.drop_table("job_costs")
