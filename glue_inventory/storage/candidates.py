"""Reads and writes of `deep_analysis_candidates`: the current list, its history, the top of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from glue_inventory.analysis.tags import ownership
from glue_inventory.storage import repository
from glue_inventory.storage.repository import Bind, transaction
from glue_inventory.storage.tables import data_jobs, deep_analysis_candidates

_CURRENT = deep_analysis_candidates.c.is_current


def write_candidates(bind: Bind, rows: Sequence[dict[str, Any]], dagster_run_id: str) -> None:
    """Make `rows` the current list and set each job's priority and reasons (cleared for the others)."""
    with transaction(bind) as conn:
        repository.replace_candidates(conn, dagster_run_id, [
            {"data_job_id": r["data_job_id"], "score": r["score"], "priority": r["priority"],
             "reasons": r["reasons"], "savings_by_reason": r["savings_by_reason"],
             "estimated_monthly_savings_usd": r["estimated_monthly_savings_usd"],
             "savings_basis": r.get("savings_basis") or "estimate"} for r in rows])
        conn.execute(sa.update(data_jobs).values(priority=None, candidate_reasons=None))
        if rows:
            conn.execute(
                sa.update(data_jobs).where(data_jobs.c.id == sa.bindparam("job_id"))
                .values(priority=sa.bindparam("new_priority"), candidate_reasons=sa.bindparam("new_reasons")),
                [{"job_id": r["data_job_id"], "new_priority": r["priority"], "new_reasons": r["reasons"]}
                 for r in rows])


def rescore_candidates(bind: Bind, rows: Sequence[dict[str, Any]]) -> None:
    """Update the current list in place with jobs rescored from deep-analysis evidence: a job's row is
    replaced (or added, to the same list), and a job left without reasons leaves the list; each job's
    priority and reasons on `data_jobs` follow."""
    table = deep_analysis_candidates
    with transaction(bind) as conn:
        list_run = conn.execute(sa.select(table.c.dagster_run_id).where(_CURRENT).limit(1)).scalar()
        for row in rows:
            conn.execute(sa.update(table).where(_CURRENT, table.c.data_job_id == row["data_job_id"])
                         .values(is_current=False))
            conn.execute(sa.update(data_jobs).where(data_jobs.c.id == row["data_job_id"])
                         .values(priority=row["priority"] if row["reasons"] else None,
                                 candidate_reasons=row["reasons"] or None))
            if row["reasons"] and list_run is not None:
                conn.execute(table.insert().values(
                    data_job_id=row["data_job_id"], dagster_run_id=list_run, score=row["score"],
                    priority=row["priority"], reasons=row["reasons"], savings_by_reason=row["savings_by_reason"],
                    estimated_monthly_savings_usd=row["estimated_monthly_savings_usd"],
                    savings_basis=row["savings_basis"], is_current=True))


def current_candidates(bind: Bind) -> list[dict]:
    """The current list with each job's key, name, owner, team and cost center (each from its own tag)."""
    query = (sa.select(deep_analysis_candidates, data_jobs.c.partition_key, data_jobs.c.name, data_jobs.c.tags)
             .join(data_jobs, data_jobs.c.id == deep_analysis_candidates.c.data_job_id).where(_CURRENT))
    with transaction(bind) as conn:
        return [{"key": row["partition_key"], "name": row["name"], "score": row["score"],
                 "priority": row["priority"], "reasons": row["reasons"],
                 "savings_by_reason": row["savings_by_reason"] or {},
                 "estimated_monthly_savings_usd": row["estimated_monthly_savings_usd"] or 0.0,
                 "savings_basis": row["savings_basis"] or "estimate",
                 **ownership(row["tags"] or {})}
                for row in conn.execute(query).mappings()]


def current_scores(bind: Bind) -> dict[int, float]:
    """data_job_id → score of the current list."""
    with transaction(bind) as conn:
        return dict(conn.execute(sa.select(deep_analysis_candidates.c.data_job_id, deep_analysis_candidates.c.score)
                                 .where(_CURRENT)).all())


def top_candidate_keys(bind: Bind, limit: int) -> list[str]:
    """Partition keys of the current candidates with the highest scores."""
    query = (sa.select(data_jobs.c.partition_key)
             .join(deep_analysis_candidates, deep_analysis_candidates.c.data_job_id == data_jobs.c.id)
             .where(_CURRENT).order_by(deep_analysis_candidates.c.score.desc(), data_jobs.c.partition_key)
             .limit(limit))
    with transaction(bind) as conn:
        return list(conn.execute(query).scalars())


def current_totals(bind: Bind) -> tuple[int, float]:
    """(candidates, estimated monthly savings) of the current list."""
    with transaction(bind) as conn:
        count, savings = conn.execute(sa.select(sa.func.count(), sa.func.sum(
            deep_analysis_candidates.c.estimated_monthly_savings_usd)).where(_CURRENT)).one()
    return count, savings or 0.0


def list_of_run(bind: Bind, dagster_run_id: str) -> tuple[list[sa.Row], set[int]]:
    """The list written by a run (id, data_job_id, savings, partition key; best first) and the jobs of the
    list written before it (rows are inserted in list order)."""
    table = deep_analysis_candidates
    with transaction(bind) as conn:
        rows = conn.execute(sa.select(table.c.id, table.c.data_job_id, table.c.estimated_monthly_savings_usd,
                                      data_jobs.c.partition_key)
                            .join(data_jobs, data_jobs.c.id == table.c.data_job_id)
                            .where(table.c.dagster_run_id == dagster_run_id).order_by(table.c.score.desc())).all()
        first_id = min((row.id for row in rows), default=None)
        before = sa.select(sa.func.max(table.c.id)).where(table.c.dagster_run_id != dagster_run_id)
        if first_id is not None:
            before = before.where(table.c.id < first_id)
        previous_run = conn.execute(sa.select(table.c.dagster_run_id)
                                    .where(table.c.id == before.scalar_subquery())).scalar()
        previous = set() if previous_run is None else set(conn.execute(
            sa.select(table.c.data_job_id).where(table.c.dagster_run_id == previous_run)).scalars())
    return rows, previous
