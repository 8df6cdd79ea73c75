"""Reads of `analysis_runs` and `job_runs` for the deep analysis: recent runs, latest deep analyses."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa

from glue_inventory.storage.repository import Bind, chunks, transaction
from glue_inventory.storage.tables import analysis_runs, data_jobs, job_artifacts, job_runs

_NEWEST_DEEP = (sa.select(sa.func.max(analysis_runs.c.id)).where(analysis_runs.c.analysis_type == "deep")
                .group_by(analysis_runs.c.data_job_id))


def recent_runs(bind: Bind, data_job_id: int, now: datetime, window_days: int,
                limit: int) -> list[tuple[str, datetime, datetime]]:
    """The job's latest finished runs of the window, newest first: (run id, started, completed)."""
    query = (sa.select(job_runs.c.run_id, job_runs.c.started_on, job_runs.c.completed_on)
             .where(job_runs.c.data_job_id == data_job_id,
                    job_runs.c.started_on >= now - timedelta(days=window_days),
                    job_runs.c.completed_on.is_not(None))
             .order_by(job_runs.c.started_on.desc()).limit(limit))
    with transaction(bind) as conn:
        return [tuple(row) for row in conn.execute(query)]


def latest_deep(bind: Bind) -> dict[int, sa.RowMapping]:
    """The newest deep `analysis_runs` row of each job that has one."""
    with transaction(bind) as conn:
        return {row["data_job_id"]: row for row in conn.execute(
            sa.select(analysis_runs).where(analysis_runs.c.id.in_(_NEWEST_DEEP))).mappings()}


def latest_evidence(bind: Bind) -> dict[str, dict]:
    """Partition key → the evidence (analysis.evidence) of the job's newest deep analysis, where it has one."""
    query = (sa.select(data_jobs.c.partition_key, analysis_runs.c.cost_analysis["evidence"])
             .join(data_jobs, data_jobs.c.id == analysis_runs.c.data_job_id)
             .where(analysis_runs.c.id.in_(_NEWEST_DEEP)))
    with transaction(bind) as conn:
        return {key: evidence for key, evidence in conn.execute(query) if evidence}


def window_runs(bind: Bind, data_job_ids: Iterable[int], since: datetime) -> dict[int, list[tuple[int | None, float]]]:
    """Per job: (execution seconds, estimated cost) of each run started at or after `since` that Glue reported
    an execution time for (a run still going has none and costs nothing yet)."""
    runs: dict[int, list[tuple[int | None, float]]] = {}
    with transaction(bind) as conn:
        for chunk in chunks(data_job_ids):
            for job_id, seconds, cost in conn.execute(
                    sa.select(job_runs.c.data_job_id, job_runs.c.execution_time_s, job_runs.c.estimated_cost_usd)
                    .where(job_runs.c.data_job_id.in_(chunk), job_runs.c.started_on >= since,
                           job_runs.c.execution_time_s.is_not(None))):
                runs.setdefault(job_id, []).append((seconds, cost or 0.0))
    return runs


def deep_history(bind: Bind, data_job_ids: Iterable[int]
                 ) -> tuple[dict[int, datetime], dict[int, str], dict[int, tuple[datetime, str | None]]]:
    """Per job: when a run of it was last stored, the script sha `job_script` last read, and (completed at,
    script sha) of its latest deep analysis. Only JSON fields are read, never the stored script text."""
    stored, scripts, deep = {}, {}, {}
    with transaction(bind) as conn:
        for chunk in chunks(data_job_ids):
            stored.update(conn.execute(sa.select(job_runs.c.data_job_id, sa.func.max(job_runs.c.fetched_at))
                                       .where(job_runs.c.data_job_id.in_(chunk))
                                       .group_by(job_runs.c.data_job_id)).all())
            scripts.update(conn.execute(
                sa.select(job_artifacts.c.data_job_id, job_artifacts.c.content["sha256"].as_string())
                .where(job_artifacts.c.asset == "job_script", job_artifacts.c.data_job_id.in_(chunk))).all())
            deep.update((row[0], row[1:]) for row in conn.execute(
                sa.select(analysis_runs.c.data_job_id, analysis_runs.c.completed_at,
                          analysis_runs.c.metrics[("script", "sha256")].as_string())
                .where(analysis_runs.c.id.in_(_NEWEST_DEEP.where(analysis_runs.c.data_job_id.in_(chunk))))))
    return stored, scripts, deep


def prune_analyses(bind: Bind, keep_per_job: int) -> int:
    """Delete every analysis but the newest `keep_per_job` of each job and kind (preliminary, deep); returns
    how many were deleted."""
    ranked = sa.select(analysis_runs.c.id, sa.func.row_number().over(
        partition_by=(analysis_runs.c.data_job_id, analysis_runs.c.analysis_type),
        order_by=(analysis_runs.c.created_at.desc(), analysis_runs.c.id.desc())).label("rank")).subquery()
    beyond = sa.select(ranked.c.id).where(ranked.c.rank > keep_per_job)
    with transaction(bind) as conn:
        return conn.execute(sa.delete(analysis_runs).where(analysis_runs.c.id.in_(beyond))).rowcount
