"""The table IO manager: asset outputs become idempotent upserts, one transaction per output.

Partitioned outputs arrive as one mapping of partition key → row for all the run's partitions,
and downstream assets read the tables, never thousands of pickles.
"""


from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa

from glue_inventory.aws.inventory import InventorySnapshot
from glue_inventory.resources import InventoryDatabase
from glue_inventory.storage import repository
from glue_inventory.storage.tables import data_jobs, platforms

PLATFORM_TYPE = "aws_glue"


def write_snapshot(conn: sa.Connection, snapshot: InventorySnapshot) -> None:
    for listing in snapshot.listings:
        platform_id = repository.upsert_platform(
            conn, name=listing.platform_name, platform_type=PLATFORM_TYPE,
            account_id=listing.account_id or "unknown", region=listing.region,
            credentials=listing.credentials, status="failed" if listing.error else "ok",
            last_error=listing.error, synced_at=snapshot.seen_at)
        if listing.error:
            continue  # a failed listing says nothing about which jobs vanished
        repository.upsert_jobs(conn, platform_id, listing.jobs, snapshot.seen_at)
        repository.mark_deleted(conn, platform_id, {job["name"] for job in listing.jobs}, snapshot.seen_at)


def write_metrics(conn: sa.Connection, rows: dict[str, dict], dagster_run_id: str) -> None:
    now = datetime.now(UTC)
    updates, analyses = [], []
    for row in rows.values():
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
    repository.update_job_metrics(conn, updates)
    repository.insert_analysis_runs(conn, analyses)


def write_candidates(conn: sa.Connection, rows: list[dict], dagster_run_id: str) -> None:
    repository.replace_candidates(conn, dagster_run_id, [
        {"data_job_id": r["data_job_id"], "score": r["score"], "priority": r["priority"], "reasons": r["reasons"],
         "savings_by_reason": r["savings_by_reason"],
         "estimated_monthly_savings_usd": r["estimated_monthly_savings_usd"]} for r in rows])
    conn.execute(sa.update(data_jobs).values(priority=None, candidate_reasons=None))
    if rows:
        conn.execute(
            sa.update(data_jobs).where(data_jobs.c.id == sa.bindparam("job_id"))
            .values(priority=sa.bindparam("new_priority"), candidate_reasons=sa.bindparam("new_reasons")),
            [{"job_id": r["data_job_id"], "new_priority": r["priority"], "new_reasons": r["reasons"]} for r in rows])


def read_jobs(conn: sa.Connection, partition_keys: list[str] | None = None) -> dict[str, dict]:
    """Every job in the inventory (or the given partitions) with its latest preliminary metrics."""
    query = (sa.select(data_jobs, platforms.c.account_id, platforms.c.region, platforms.c.name.label("platform"))
             .join(platforms, platforms.c.id == data_jobs.c.platform_id))
    if partition_keys is not None:
        query = query.where(data_jobs.c.partition_key.in_(partition_keys))
    jobs = {}
    for row in conn.execute(query).mappings():
        job = dict(row)
        job["data_job_id"] = job.pop("id")
        jobs[job["partition_key"]] = job
    return jobs


class InventoryTablesIOManager(dg.ConfigurableIOManager):
    """Writes `glue_jobs`, `job_preliminary_metrics` and `deep_analysis_candidates` to the inventory tables."""

    database: dg.ResourceDependency[InventoryDatabase]

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        name = context.asset_key.path[-1]
        with self.database.engine().begin() as conn:
            if name == "glue_jobs":
                write_snapshot(conn, obj)
            elif name == "job_preliminary_metrics":
                write_metrics(conn, obj, context.run_id)
            elif name == "deep_analysis_candidates":
                write_candidates(conn, obj, context.run_id)
            else:
                raise dg.DagsterInvariantViolationError(f"inventory_tables cannot store asset {name}")

    def load_input(self, context: dg.InputContext) -> dict[str, dict]:
        keys = list(context.asset_partition_keys) if context.has_asset_partitions else None
        with self.database.engine().connect() as conn:
            return read_jobs(conn, keys)
