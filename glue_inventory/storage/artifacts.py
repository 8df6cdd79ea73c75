"""`job_artifacts`: one JSON document per job and deep-analysis asset, replaced by each new analysis."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from glue_inventory.storage.repository import Bind, chunks, dialect_insert, transaction
from glue_inventory.storage.tables import data_jobs, job_artifacts, utcnow


def write_artifacts(bind: Bind, asset: str, dagster_run_id: str, outputs: dict[str, dict]) -> None:
    """Store each partition key's document for `asset`; keys not in the inventory are ignored."""
    with transaction(bind) as conn:
        ids: dict[str, int] = {}
        for chunk in chunks(outputs):
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
        for chunk in chunks(rows):
            conn.execute(stmt, chunk)


def read_artifacts(bind: Bind, asset: str, keys: Iterable[str] | None) -> dict[str, dict]:
    """Partition key → document of `asset`, for `keys` (every job when None)."""
    query = (sa.select(data_jobs.c.partition_key, job_artifacts.c.content)
             .join(data_jobs, data_jobs.c.id == job_artifacts.c.data_job_id)
             .where(job_artifacts.c.asset == asset))
    selects = ([query] if keys is None else
               [query.where(data_jobs.c.partition_key.in_(chunk)) for chunk in chunks(keys)])
    found: dict[str, dict] = {}
    with transaction(bind) as conn:
        for select in selects:
            found.update((key, content) for key, content in conn.execute(select).all())
    return found
