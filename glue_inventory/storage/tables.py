"""The inventory tables (docs/tables.md), as SQLAlchemy Core; Alembic migrations create them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

JSONVariant = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY; Postgres gets 64-bit ids (job_runs grows without bound).
IdType = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp that reads back in UTC on every database (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: timestamps must carry a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


def _id() -> Column:
    return Column("id", IdType, primary_key=True, autoincrement=True)


def _job_fk() -> Column:
    return Column("data_job_id", IdType, ForeignKey("data_jobs.id", ondelete="CASCADE"), nullable=False)


def _created_at() -> Column:
    return Column("created_at", UTCDateTime(), nullable=False, default=utcnow)


def _updated_at() -> Column:
    return Column("updated_at", UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow)


platforms = Table(
    "platforms", metadata,
    _id(),
    Column("name", Text, nullable=False),
    Column("platform_type", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("region", Text, nullable=False),
    Column("credentials", JSONVariant, nullable=False, default=dict),
    Column("status", Text, nullable=False, default="ok"),  # ok | failed
    Column("last_error", Text),
    Column("last_synced_at", UTCDateTime()),
    # From AWS Organizations for a discovered account: its name and OU path (Root/Workloads/Prod).
    Column("account_name", Text),
    Column("ou_path", Text),
    Column("source", Text, nullable=False, default="config", server_default="config"),  # config | organization
    _created_at(),
    _updated_at(),
    UniqueConstraint("name", "account_id", "region"),
)

data_jobs = Table(
    "data_jobs", metadata,
    _id(),
    Column("platform_id", IdType, ForeignKey("platforms.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("partition_key", Text, nullable=False, unique=True),
    Column("status", Text),  # NULL until the preliminary metrics ran; "deleted" once gone from Glue
    Column("priority", Text),
    Column("job_type", Text),
    Column("worker_type", Text),
    Column("number_of_workers", Integer),
    Column("max_capacity", Float),
    Column("glue_version", Text),
    Column("execution_class", Text),
    Column("python_version", Text),
    Column("timeout_minutes", Integer),
    Column("role", Text),
    Column("script_location", Text),
    Column("tags", JSONVariant),
    Column("default_argument_names", JSONVariant),  # names only: argument values may hold secrets
    Column("secret_argument_names", JSONVariant),
    # The value of --job-bookmark-option (Glue's default when absent): the only argument value kept, never a secret.
    Column("job_bookmark_option", Text),
    Column("created_on", UTCDateTime()),
    Column("last_modified_on", UTCDateTime()),
    Column("last_run_at", UTCDateTime()),
    Column("last_run_state", Text),
    Column("metrics", JSONVariant),
    Column("candidate_reasons", JSONVariant),
    Column("last_error", Text),
    # True once the whole run history Glue still keeps was fetched; later fetches stop at known runs.
    Column("runs_history_complete", Boolean, nullable=False, default=False),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("deleted_at", UTCDateTime()),
    _created_at(),
    _updated_at(),
    UniqueConstraint("platform_id", "name"),
    Index(None, "status"),
)

job_runs = Table(
    "job_runs", metadata,
    _id(),
    _job_fk(),
    Column("run_id", Text, nullable=False),
    Column("attempt", Integer, nullable=False, default=0),
    Column("state", Text, nullable=False),
    Column("started_on", UTCDateTime()),
    Column("completed_on", UTCDateTime()),
    Column("execution_time_s", Integer),
    Column("dpu_seconds", Float),
    Column("dpu_hours", Float),
    Column("estimated_cost_usd", Float),
    Column("worker_type", Text),
    Column("number_of_workers", Integer),
    Column("max_capacity", Float),
    Column("glue_version", Text),
    Column("execution_class", Text),
    Column("error_message", Text),  # redacted before it is stored
    Column("fetched_at", UTCDateTime(), nullable=False, default=utcnow),
    UniqueConstraint("data_job_id", "run_id"),
    Index(None, "data_job_id", "started_on"),
)

analysis_runs = Table(
    "analysis_runs", metadata,
    _id(),
    _job_fk(),
    Column("analysis_type", Text, nullable=False),  # preliminary | deep
    Column("dagster_run_id", Text, nullable=False),
    Column("status", Text, nullable=False, default="succeeded"),  # succeeded | failed | skipped
    Column("error", Text),
    Column("completed_at", UTCDateTime()),
    Column("metrics", JSONVariant),
    Column("recommendations", JSONVariant),
    Column("ai_analysis", JSONVariant),
    Column("code_analysis", JSONVariant),
    Column("cost_analysis", JSONVariant),
    _created_at(),
    UniqueConstraint("data_job_id", "analysis_type", "dagster_run_id"),
)

deep_analysis_candidates = Table(
    "deep_analysis_candidates", metadata,
    _id(),
    _job_fk(),
    Column("dagster_run_id", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("priority", Text, nullable=False),
    Column("reasons", JSONVariant, nullable=False),
    Column("savings_by_reason", JSONVariant),
    Column("estimated_monthly_savings_usd", Float),
    Column("savings_basis", Text),  # the largest part of the savings: measured | exact | rule_of_thumb
    Column("savings_by_basis", JSONVariant),  # {measured, exact, rule_of_thumb} → USD/month
    Column("savings_identified_usd", Float),  # measured + exact
    Column("savings_potential_usd", Float),  # rule of thumb, not yet measured
    Column("deep_lane", Text),  # savings | risk: the deep-analysis lane that chose the job (None: not chosen)
    Column("deep_rank", Integer),  # its rank in that lane, from 1
    Column("is_current", Boolean, nullable=False, default=True),
    _created_at(),
    Index(None, "data_job_id"),
    Index(None, "dagster_run_id"),
    Index(None, "is_current"),
)


def _cache_table(name: str) -> Table:
    return Table(
        name, metadata,
        Column("cache_key", Text, primary_key=True),
        Column("result", JSONVariant, nullable=False),
        _created_at(),
    )


code_analysis_cache = _cache_table("code_analysis_cache")
llm_cache = _cache_table("llm_cache")

# Parsed Spark event logs by S3 ETag (services/event_logs.py): a log is read once, whatever number of deep
# analyses look at it again. `etag` is the object's ETag, or a rolled log's files' ETags in order.
event_log_summaries = Table(
    "event_log_summaries", metadata,
    _id(),
    Column("location", Text, nullable=False),
    Column("etag", Text, nullable=False),
    Column("summary_version", Integer, nullable=False),
    Column("max_bytes", BigInteger, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("summary", JSONVariant, nullable=False),
    _created_at(),
    UniqueConstraint("location", "etag", "summary_version", "max_bytes"),
)

# The latest output of each per-job deep-analysis asset (metrics, script, code analysis, AI review),
# so downstream assets and reports read the table instead of one pickle per job.
job_artifacts = Table(
    "job_artifacts", metadata,
    _id(),
    _job_fk(),
    Column("asset", Text, nullable=False),
    Column("dagster_run_id", Text, nullable=False),
    Column("content", JSONVariant, nullable=False),
    _updated_at(),
    UniqueConstraint("data_job_id", "asset"),
)

# Glue line items of the Cost and Usage Report, summed per resource, day, operation, usage type and line
# item type. A billing period is replaced whole when it is read again (AWS restates the current month).
job_billed_costs = Table(
    "job_billed_costs", metadata,
    _id(),
    Column("data_job_id", IdType, ForeignKey("data_jobs.id", ondelete="SET NULL")),  # NULL: not a job we know
    Column("resource_id", Text, nullable=False),  # the line item's resource: a job, crawler or session ARN
    Column("account_id", Text),
    Column("region", Text),
    Column("billing_period", Text, nullable=False),  # YYYY-MM
    Column("usage_date", Date, nullable=False),
    Column("operation", Text, nullable=False),
    Column("usage_type", Text, nullable=False),
    Column("line_item_type", Text, nullable=False),
    Column("usage_amount", Float, nullable=False),
    Column("unblended_cost_usd", Float, nullable=False),
    Column("net_cost_usd", Float),
    _created_at(),
    # Named: the convention's name (every column) is past Postgres' 63-character limit.
    UniqueConstraint("billing_period", "resource_id", "usage_date", "operation", "usage_type", "line_item_type",
                     name="uq_job_billed_costs_line_item"),
    Index(None, "data_job_id"),
    Index(None, "usage_date"),
)

# Each job's bill of the reconciliation window next to its estimate (analysis/cost/reconcile.py), or the
# reason it has none: written whole by `glue_billed_costs` alone; `storage.jobs.read_jobs` adds the fields
# to the job's metrics, so `data_jobs` keeps one writer per column.
job_costs = Table(
    "job_costs", metadata,
    Column("data_job_id", IdType, ForeignKey("data_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("fields", JSONVariant, nullable=False),
    Column("dagster_run_id", Text),
    _updated_at(),
)

# A change that a remediation plan called for, seen between two inventories (made by the tool or anyone).
remediation_events = Table(
    "remediation_events", metadata,
    _id(),
    _job_fk(),
    Column("kind", Text, nullable=False),
    Column("plan_id", Text),
    Column("detected_at", UTCDateTime(), nullable=False),
    Column("before", JSONVariant),
    Column("after", JSONVariant),
    Column("monthly_cost_before_usd", Float),
    Column("monthly_cost_after_usd", Float),
    Column("applied_by", Text, nullable=False),  # tool | outside
    _created_at(),
    Index(None, "data_job_id"),
    Index(None, "detected_at"),
)

# The remediation plans of the latest plan run (is_current) and earlier ones; `plan` is the whole plan as JSON
# (changes, steps, commands, risk), `fingerprint` the job configuration it was made for.
remediation_plans = Table(
    "remediation_plans", metadata,
    _id(),
    Column("plan_id", Text, nullable=False, unique=True),
    _job_fk(),
    Column("kind", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("expected_monthly_savings_usd", Float),
    Column("applicable", Boolean, nullable=False),
    Column("plan", JSONVariant, nullable=False),
    Column("is_current", Boolean, nullable=False, default=True),
    _created_at(),
    _updated_at(),
    Index(None, "data_job_id"),
)

# Every plan `apply_remediation` carried out (or failed half-way): what it changed, when, in which run. The next
# inventory reads it to tell a change the tool made from one made outside it.
remediation_applications = Table(
    "remediation_applications", metadata,
    _id(),
    _job_fk(),
    Column("plan_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("dagster_run_id", Text, nullable=False),
    Column("applied_at", UTCDateTime(), nullable=False),
    # in_progress while its run works, then applied | failed; interrupted when a later run took over its steps
    Column("status", Text, nullable=False),
    Column("changes", JSONVariant, nullable=False),
    Column("error", Text),
    Column("approver_arn", Text),
    Column("approval_event_id", Text),
    Column("approval_event_time", UTCDateTime()),
    Column("plan_fingerprint", Text),
    Column("steps_done", Integer, nullable=False, server_default="0"),  # of the plan's steps, in order
    _created_at(),
    Index(None, "data_job_id"),
    Index(None, "plan_id"),
)

# The request rate the adaptive pacing learned per (account, Region, API family), and the last run's calls and
# throttled answers there: the next run starts from it (aws/pacing.py), the platform health table shows it.
learned_rates = Table(
    "learned_rates", metadata,
    Column("account_id", Text, primary_key=True),
    Column("region", Text, primary_key=True),
    Column("api_family", Text, primary_key=True),  # the AWS service: glue, resourcegroupstaggingapi, ...
    Column("requests_per_second", Float, nullable=False),
    Column("limit_found", Boolean, nullable=False),  # a throttle was seen: the rate is near AWS's limit
    Column("calls", Integer, nullable=False),
    Column("throttled", Integer, nullable=False),
    _updated_at(),
)
