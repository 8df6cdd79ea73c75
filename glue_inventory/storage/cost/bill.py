"""Reads and writes of `job_billed_costs` (the Cost and Usage Report's Glue line items per resource and day),
the estimate of the same days from `job_runs`, and each job's billed fields (`job_costs`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from glue_inventory.storage.repository import BATCH_SIZE, Bind, chunks, transaction
from glue_inventory.storage.tables import data_jobs, job_billed_costs, job_costs, job_runs

_LINE_COLUMNS = ("data_job_id", "resource_id", "account_id", "region", "billing_period", "usage_date", "operation",
                 "usage_type", "line_item_type", "usage_amount", "unblended_cost_usd", "net_cost_usd")


def replace_period(bind: Bind, billing_period: str, rows: Sequence[Mapping[str, Any]]) -> int:
    """Make `rows` the stored line items of `billing_period` (AWS restates a period: it is replaced whole)."""
    table = job_billed_costs
    with transaction(bind) as conn:
        conn.execute(table.delete().where(table.c.billing_period == billing_period))
        for chunk in chunks(rows, BATCH_SIZE):
            conn.execute(table.insert(), [{column: row.get(column) for column in _LINE_COLUMNS} for row in chunk])
    return len(rows)


def window_lines(bind: Bind, first: date, last: date,
                 data_job_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Line items of the usage days `first`..`last` (of the given jobs, or all) summed per resource, operation,
    usage type and line item type; `net_cost_usd` is the net where the export has it, else the unblended cost."""
    table = job_billed_costs
    net = sa.func.sum(sa.func.coalesce(table.c.net_cost_usd, table.c.unblended_cost_usd))
    keys = (table.c.resource_id, table.c.operation, table.c.usage_type, table.c.line_item_type)
    query = (sa.select(*keys, sa.func.max(table.c.account_id).label("account_id"),
                       sa.func.max(table.c.region).label("region"),
                       sa.func.sum(table.c.usage_amount).label("usage_amount"),
                       sa.func.sum(table.c.unblended_cost_usd).label("unblended_cost_usd"), net.label("net_cost_usd"))
             .where(table.c.usage_date >= first, table.c.usage_date <= last).group_by(*keys))
    return _rows(bind, query, table.c.data_job_id, data_job_ids)


def _rows(bind: Bind, query: sa.Select, job_column: sa.Column, data_job_ids: Sequence[int] | None) -> list[dict]:
    selects = ([query] if data_job_ids is None
               else [query.where(job_column.in_(chunk)) for chunk in chunks(data_job_ids)])
    with transaction(bind) as conn:
        return [dict(row) for select in selects for row in conn.execute(select).mappings()]


def last_usage_date(bind: Bind) -> date | None:
    """The newest usage day stored: how far the export reached when it was last read."""
    with transaction(bind) as conn:
        return conn.execute(sa.select(sa.func.max(job_billed_costs.c.usage_date))).scalar()


def estimates_by_job(bind: Bind, first: date, last: date,
                     data_job_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Estimated cost and DPU-hours of the runs started on the UTC days `first`..`last`, per job (of the given
    jobs, or all) and the run's execution class."""
    start = datetime.combine(first, time(), UTC)
    end = datetime.combine(last + timedelta(days=1), time(), UTC)
    query = (sa.select(job_runs.c.data_job_id, job_runs.c.execution_class,
                       sa.func.sum(job_runs.c.dpu_hours).label("dpu_hours"),
                       sa.func.sum(job_runs.c.estimated_cost_usd).label("cost_usd"))
             .where(job_runs.c.started_on >= start, job_runs.c.started_on < end)
             .group_by(job_runs.c.data_job_id, job_runs.c.execution_class))
    return _rows(bind, query, job_runs.c.data_job_id, data_job_ids)


def job_ids(bind: Bind, partition_keys: Iterable[str]) -> dict[str, int]:
    """data_job_id of each stored partition key (keys not stored are absent)."""
    found: dict[str, int] = {}
    with transaction(bind) as conn:
        for chunk in chunks(partition_keys):
            found.update(conn.execute(sa.select(data_jobs.c.partition_key, data_jobs.c.id)
                                      .where(data_jobs.c.partition_key.in_(chunk))).tuples().all())
    return found


def write_job_costs(bind: Bind, fields_by_job: Mapping[int, Mapping[str, Any]], dagster_run_id: str | None) -> int:
    """Make `fields_by_job` the stored billed fields of every job (`job_costs` is replaced whole: a job the
    bill no longer covers keeps no stale figure)."""
    now = datetime.now(UTC)
    rows = [{"data_job_id": job_id, "fields": dict(fields), "dagster_run_id": dagster_run_id, "updated_at": now}
            for job_id, fields in fields_by_job.items()]
    with transaction(bind) as conn:
        conn.execute(job_costs.delete())
        for chunk in chunks(rows, BATCH_SIZE):
            conn.execute(job_costs.insert(), chunk)
    return len(rows)
