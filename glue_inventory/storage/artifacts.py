"""IO manager for the per-job deep-analysis assets: one JSON document per job and asset in `job_artifacts`."""

from collections.abc import Iterable

import dagster as dg
import sqlalchemy as sa

from glue_inventory.resources import InventoryDatabase
from glue_inventory.storage.repository import dialect_insert
from glue_inventory.storage.tables import data_jobs, job_artifacts, utcnow

CHUNK = 500


def write_artifacts(conn: sa.Connection, asset: str, dagster_run_id: str, outputs: dict[str, dict]) -> None:
    keys = list(outputs)
    ids: dict[str, int] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start:start + CHUNK]
        query = sa.select(data_jobs.c.partition_key, data_jobs.c.id).where(data_jobs.c.partition_key.in_(chunk))
        ids.update((key, job_id) for key, job_id in conn.execute(query).all())
    rows = [{"data_job_id": ids[key], "asset": asset, "dagster_run_id": dagster_run_id, "content": content,
             "updated_at": utcnow()} for key, content in outputs.items() if key in ids]
    if not rows:
        return
    stmt = dialect_insert(conn, job_artifacts)
    stmt = stmt.on_conflict_do_update(
        index_elements=["data_job_id", "asset"],
        set_={"dagster_run_id": stmt.excluded.dagster_run_id, "content": stmt.excluded.content,
              "updated_at": stmt.excluded.updated_at})
    for start in range(0, len(rows), CHUNK):
        conn.execute(stmt, rows[start:start + CHUNK])


def read_artifacts(conn: sa.Connection, asset: str, keys: Iterable[str] | None) -> dict[str, dict]:
    query = (sa.select(data_jobs.c.partition_key, job_artifacts.c.content)
             .join(data_jobs, data_jobs.c.id == job_artifacts.c.data_job_id)
             .where(job_artifacts.c.asset == asset))
    if keys is None:
        return {key: content for key, content in conn.execute(query).all()}
    keys = list(keys)
    found: dict[str, dict] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = query.where(data_jobs.c.partition_key.in_(keys[start:start + CHUNK]))
        found.update((key, content) for key, content in conn.execute(chunk).all())
    return found


class JobArtifactsIOManager(dg.ConfigurableIOManager):
    """Stores a partitioned asset's output (partition key → JSON) in `job_artifacts`, one transaction per run."""

    database: dg.ResourceDependency[InventoryDatabase]

    def handle_output(self, context: dg.OutputContext, obj: dict[str, dict]) -> None:
        with self.database.engine().begin() as conn:
            write_artifacts(conn, context.asset_key.path[-1], context.run_id, obj)

    def load_input(self, context: dg.InputContext) -> dict[str, dict]:
        keys = context.asset_partition_keys if context.has_asset_partitions else None
        with self.database.engine().connect() as conn:
            return read_artifacts(conn, context.upstream_output.asset_key.path[-1], keys)
