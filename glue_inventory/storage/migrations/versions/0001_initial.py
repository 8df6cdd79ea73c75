"""The initial inventory tables.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the types in tables.py: a migration must not change when tables.py does.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


def _fk(column: str, table: str, referred: str) -> sa.Column:
    return sa.Column(column, ID, sa.ForeignKey(f"{referred}.id", ondelete="CASCADE",
                                               name=f"fk_{table}_{column}_{referred}"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "platforms",
        _id(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("platform_type", sa.Text, nullable=False),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=False),
        sa.Column("credentials", JSON, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("last_synced_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_platforms"),
        sa.UniqueConstraint("name", "account_id", "region", name="uq_platforms_name_account_id_region"),
    )
    op.create_table(
        "data_jobs",
        _id(),
        _fk("platform_id", "data_jobs", "platforms"),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("partition_key", sa.Text, nullable=False),
        sa.Column("status", sa.Text),
        sa.Column("priority", sa.Text),
        sa.Column("job_type", sa.Text),
        sa.Column("worker_type", sa.Text),
        sa.Column("number_of_workers", sa.Integer),
        sa.Column("max_capacity", sa.Float),
        sa.Column("glue_version", sa.Text),
        sa.Column("execution_class", sa.Text),
        sa.Column("python_version", sa.Text),
        sa.Column("timeout_minutes", sa.Integer),
        sa.Column("role", sa.Text),
        sa.Column("script_location", sa.Text),
        sa.Column("tags", JSON),
        sa.Column("default_argument_names", JSON),
        sa.Column("secret_argument_names", JSON),
        sa.Column("created_on", TS),
        sa.Column("last_modified_on", TS),
        sa.Column("last_run_at", TS),
        sa.Column("last_run_state", sa.Text),
        sa.Column("metrics", JSON),
        sa.Column("candidate_reasons", JSON),
        sa.Column("last_error", sa.Text),
        sa.Column("runs_history_complete", sa.Boolean, nullable=False),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("deleted_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_data_jobs"),
        sa.UniqueConstraint("platform_id", "name", name="uq_data_jobs_platform_id_name"),
        sa.UniqueConstraint("partition_key", name="uq_data_jobs_partition_key"),
    )
    op.create_index("ix_data_jobs_status", "data_jobs", ["status"])
    op.create_table(
        "job_runs",
        _id(),
        _fk("data_job_id", "job_runs", "data_jobs"),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("started_on", TS),
        sa.Column("completed_on", TS),
        sa.Column("execution_time_s", sa.Integer),
        sa.Column("dpu_seconds", sa.Float),
        sa.Column("dpu_hours", sa.Float),
        sa.Column("estimated_cost_usd", sa.Float),
        sa.Column("worker_type", sa.Text),
        sa.Column("number_of_workers", sa.Integer),
        sa.Column("max_capacity", sa.Float),
        sa.Column("glue_version", sa.Text),
        sa.Column("execution_class", sa.Text),
        sa.Column("error_message", sa.Text),
        sa.Column("fetched_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_runs"),
        sa.UniqueConstraint("data_job_id", "run_id", name="uq_job_runs_data_job_id_run_id"),
    )
    op.create_index("ix_job_runs_data_job_id_started_on", "job_runs", ["data_job_id", "started_on"])
    op.create_table(
        "analysis_runs",
        _id(),
        _fk("data_job_id", "analysis_runs", "data_jobs"),
        sa.Column("analysis_type", sa.Text, nullable=False),
        sa.Column("dagster_run_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("completed_at", TS),
        sa.Column("metrics", JSON),
        sa.Column("recommendations", JSON),
        sa.Column("ai_analysis", JSON),
        sa.Column("code_analysis", JSON),
        sa.Column("cost_analysis", JSON),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_analysis_runs"),
        sa.UniqueConstraint("data_job_id", "analysis_type", "dagster_run_id",
                            name="uq_analysis_runs_data_job_id_analysis_type_dagster_run_id"),
    )
    op.create_table(
        "deep_analysis_candidates",
        _id(),
        _fk("data_job_id", "deep_analysis_candidates", "data_jobs"),
        sa.Column("dagster_run_id", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("priority", sa.Text, nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("savings_by_reason", JSON),
        sa.Column("estimated_monthly_savings_usd", sa.Float),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deep_analysis_candidates"),
    )
    for column in ("data_job_id", "dagster_run_id", "is_current"):
        op.create_index(f"ix_deep_analysis_candidates_{column}", "deep_analysis_candidates", [column])
    for cache in ("code_analysis_cache", "llm_cache"):
        op.create_table(
            cache,
            sa.Column("cache_key", sa.Text, nullable=False),
            sa.Column("result", JSON, nullable=False),
            sa.Column("created_at", TS, nullable=False),
            sa.PrimaryKeyConstraint("cache_key", name=f"pk_{cache}"),
        )


def downgrade() -> None:
    for table in ("llm_cache", "code_analysis_cache", "deep_analysis_candidates", "analysis_runs",
                  "job_runs", "data_jobs", "platforms"):
        op.drop_table(table)
