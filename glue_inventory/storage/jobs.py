"""Reads and writes of `data_jobs`: the inventory as rows, computed metrics, the live partition keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from glue_inventory.storage import repository
from glue_inventory.storage.repository import Bind, chunks, transaction
from glue_inventory.storage.tables import data_jobs, job_costs, platforms

LIVE = sa.or_(data_jobs.c.status.is_(None), data_jobs.c.status != "deleted")


def read_jobs(bind: Bind, partition_keys: Iterable[str] | None = None) -> dict[str, dict]:
    """Every job in the inventory (or the given partitions) with its platform's account, Region and name (and
    the account's name and OU path from Organizations) and its latest preliminary metrics, with its billed
    fields (`job_costs`) added to them; `data_job_id` is the row id."""
    query = (sa.select(data_jobs, platforms.c.account_id, platforms.c.region, platforms.c.name.label("platform"),
                       platforms.c.account_name, platforms.c.ou_path, job_costs.c.fields.label("billed_fields"))
             .join(platforms, platforms.c.id == data_jobs.c.platform_id)
             .outerjoin(job_costs, job_costs.c.data_job_id == data_jobs.c.id))
    selects = ([query] if partition_keys is None else
               [query.where(data_jobs.c.partition_key.in_(chunk)) for chunk in chunks(partition_keys)])
    jobs = {}
    with transaction(bind) as conn:
        for select in selects:
            for row in conn.execute(select).mappings().all():  # at once: iterating fetches row by row
                job = dict(row)
                job["data_job_id"] = job.pop("id")
                billed = job.pop("billed_fields")
                if billed and job["metrics"]:
                    job["metrics"] = {**job["metrics"], **billed}
                jobs[job["partition_key"]] = job
    return jobs


def partition_statuses(bind: Bind) -> list[tuple[str, str | None]]:
    """(partition key, status) of every job, deleted ones included."""
    with transaction(bind) as conn:
        return [tuple(row) for row in conn.execute(sa.select(data_jobs.c.partition_key, data_jobs.c.status))]


def live_partition_keys(bind: Bind) -> set[str]:
    with transaction(bind) as conn:
        return set(conn.execute(sa.select(data_jobs.c.partition_key).where(LIVE)).scalars())


def status_counts(bind: Bind) -> dict[str | None, int]:
    with transaction(bind) as conn:
        return dict(conn.execute(sa.select(data_jobs.c.status, sa.func.count()).group_by(data_jobs.c.status)).all())


def mark_history_complete(bind: Bind, data_job_ids: list[int]) -> None:
    """Say that each job's stored runs hold its whole history (set with the runs that complete it)."""
    with transaction(bind) as conn:
        for chunk in chunks(data_job_ids):
            conn.execute(sa.update(data_jobs).where(data_jobs.c.id.in_(chunk)).values(runs_history_complete=True))


def write_preliminary(bind: Bind, rows: Iterable[dict[str, Any]], dagster_run_id: str, now: datetime) -> None:
    """Status and metrics on `data_jobs` and one preliminary `analysis_runs` row per live job."""
    updates, analyses = [], []
    for row in rows:
        if not row.get("data_job_id") or row.get("status") == "deleted":
            continue
        last_run_at = row.get("last_run_at")
        updates.append({
            "id": row["data_job_id"], "status": row["status"], "metrics": row["metrics"],
            "last_run_at": datetime.fromisoformat(last_run_at) if last_run_at else None,
            "last_run_state": row.get("last_run_state"), "last_error": row.get("last_error"),
        })
        analyses.append({
            "data_job_id": row["data_job_id"], "analysis_type": "preliminary", "dagster_run_id": dagster_run_id,
            "status": "failed" if row.get("last_error") else "succeeded", "error": row.get("last_error"),
            "completed_at": now, "metrics": row["metrics"],
            "cost_analysis": {k: row["metrics"].get(k) for k in
                              ("cost_30d_usd", "monthly_projection_usd", "dpu_hours_30d", "failed_cost_30d_usd")},
        })
    with transaction(bind) as conn:
        repository.update_job_metrics(conn, updates)
        repository.insert_analysis_runs(conn, analyses)


def stale_and_failing(bind: Bind, cutoff: datetime) -> tuple[int, list[str], list[tuple[str, str]]]:
    """(live jobs, keys of live jobs without an analysis since `cutoff`, (key, error) of live jobs in error)."""
    with transaction(bind) as conn:
        total = conn.execute(sa.select(sa.func.count()).where(LIVE)).scalar_one()
        stale = conn.execute(sa.select(data_jobs.c.partition_key).where(
            LIVE, sa.or_(data_jobs.c.status.is_(None), data_jobs.c.updated_at < cutoff))).scalars().all()
        failing = conn.execute(sa.select(data_jobs.c.partition_key, data_jobs.c.last_error).where(
            LIVE, data_jobs.c.last_error.is_not(None))).all()
    return total, list(stale), [tuple(row) for row in failing]


def failed_platforms(bind: Bind) -> list[tuple[str, str, str | None]]:
    """(name, Region, last error) of every platform whose last listing failed."""
    with transaction(bind) as conn:
        return [tuple(row) for row in conn.execute(
            sa.select(platforms.c.name, platforms.c.region, platforms.c.last_error)
            .where(platforms.c.status == "failed"))]


def live_jobs_with(bind: Bind, columns: Iterable[str]) -> list[tuple]:
    """(id, partition key, tags, *columns) of every live job."""
    with transaction(bind) as conn:
        return [tuple(row) for row in conn.execute(
            sa.select(data_jobs.c.id, data_jobs.c.partition_key, data_jobs.c.tags,
                      *(data_jobs.c[name] for name in columns)).where(LIVE))]
