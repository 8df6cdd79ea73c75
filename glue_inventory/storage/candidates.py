"""Reads and writes of `deep_analysis_candidates`: the current list, its history, the top of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from glue_inventory.analysis.cost.savings import BASES
from glue_inventory.analysis.tags import ownership
from glue_inventory.storage import repository
from glue_inventory.storage.repository import Bind, transaction
from glue_inventory.storage.tables import data_jobs, deep_analysis_candidates

_CURRENT = deep_analysis_candidates.c.is_current


_COLUMNS = ("score", "priority", "reasons", "savings_by_reason", "estimated_monthly_savings_usd", "savings_basis",
            "savings_by_basis", "savings_identified_usd", "savings_potential_usd")


def _columns(row: dict[str, Any]) -> dict[str, Any]:
    """A candidate row's columns (reports.rows.candidate_rows), with the lane that chose it when it has one."""
    return {name: row[name] for name in _COLUMNS} | {"deep_lane": row.get("deep_lane"),
                                                      "deep_rank": row.get("deep_rank")}


def write_candidates(bind: Bind, rows: Sequence[dict[str, Any]], dagster_run_id: str) -> None:
    """Make `rows` the current list and set each job's priority and reasons (cleared for the others)."""
    with transaction(bind) as conn:
        repository.replace_candidates(conn, dagster_run_id, [
            {"data_job_id": r["data_job_id"], **_columns(r)} for r in rows])
        # Only rows that hold a priority or reasons are cleared: rewriting every job's row on each list costs a
        # fleet of thousands a write per job. The new ones are set in one statement per COPY on Postgres.
        conn.execute(sa.update(data_jobs).where(sa.or_(data_jobs.c.priority.is_not(None),
                                                       data_jobs.c.candidate_reasons.is_not(None)))
                     .values(priority=None, candidate_reasons=None))
        repository.update_job_metrics(conn, [{"id": r["data_job_id"], "priority": r["priority"],
                                              "candidate_reasons": r["reasons"]} for r in rows])


def current_candidates(bind: Bind) -> list[dict]:
    """The current list with each job's key, name, owner, team and cost center (each from its own tag)."""
    query = (sa.select(deep_analysis_candidates, data_jobs.c.partition_key, data_jobs.c.name, data_jobs.c.tags)
             .join(data_jobs, data_jobs.c.id == deep_analysis_candidates.c.data_job_id).where(_CURRENT))
    with transaction(bind) as conn:
        return [{"key": row["partition_key"], "name": row["name"], "score": row["score"],
                 "priority": row["priority"], "reasons": row["reasons"],
                 "savings_by_reason": row["savings_by_reason"] or {},
                 "estimated_monthly_savings_usd": row["estimated_monthly_savings_usd"] or 0.0,
                 "savings_basis": row["savings_basis"],
                 "savings_by_basis": row["savings_by_basis"] or dict.fromkeys(BASES, 0.0),
                 "deep_lane": row["deep_lane"], "deep_rank": row["deep_rank"],
                 **ownership(row["tags"] or {})}
                for row in conn.execute(query).mappings()]


def current_lanes(bind: Bind) -> dict[int, tuple[str, int]]:
    """data_job_id → (deep-analysis lane, rank) of the current candidates a lane chose."""
    table = deep_analysis_candidates
    with transaction(bind) as conn:
        return {job_id: (lane, rank) for job_id, lane, rank in conn.execute(
            sa.select(table.c.data_job_id, table.c.deep_lane, table.c.deep_rank)
            .where(_CURRENT, table.c.deep_lane.is_not(None)))}


def current_lanes_by_key(bind: Bind) -> dict[str, tuple[str, int]]:
    """Partition key → (deep-analysis lane, rank) of the current candidates a lane chose."""
    table = deep_analysis_candidates
    with transaction(bind) as conn:
        return {key: (lane, rank) for key, lane, rank in conn.execute(
            sa.select(data_jobs.c.partition_key, table.c.deep_lane, table.c.deep_rank)
            .join(data_jobs, data_jobs.c.id == table.c.data_job_id)
            .where(_CURRENT, table.c.deep_lane.is_not(None)))}


def current_totals(bind: Bind) -> tuple[int, float, float]:
    """(candidates, savings identified (measured + exact), potential savings (rule of thumb)) of the current
    list, USD per month."""
    table = deep_analysis_candidates
    with transaction(bind) as conn:
        count, identified, potential = conn.execute(sa.select(
            sa.func.count(), sa.func.sum(table.c.savings_identified_usd),
            sa.func.sum(table.c.savings_potential_usd)).where(_CURRENT)).one()
    return count, identified or 0.0, potential or 0.0


def list_of_run(bind: Bind, dagster_run_id: str) -> tuple[list[sa.Row], set[int]]:
    """The list written by a run (id, data_job_id, partition key; best first; a job written twice by a retried
    step counted once) and the jobs of the list written before it (rows are inserted in list order)."""
    table = deep_analysis_candidates
    with transaction(bind) as conn:
        written = conn.execute(sa.select(table.c.id, table.c.data_job_id, table.c.score, data_jobs.c.partition_key)
                               .join(data_jobs, data_jobs.c.id == table.c.data_job_id)
                               .where(table.c.dagster_run_id == dagster_run_id).order_by(table.c.id)).all()
        rows = sorted({row.data_job_id: row for row in written}.values(), key=lambda row: -row.score)
        first_id = min((row.id for row in written), default=None)
        before = sa.select(sa.func.max(table.c.id)).where(table.c.dagster_run_id != dagster_run_id)
        if first_id is not None:
            before = before.where(table.c.id < first_id)
        previous_run = conn.execute(sa.select(table.c.dagster_run_id)
                                    .where(table.c.id == before.scalar_subquery())).scalar()
        previous = set() if previous_run is None else set(conn.execute(
            sa.select(table.c.data_job_id).where(table.c.dagster_run_id == previous_run)).scalars())
    return rows, previous
