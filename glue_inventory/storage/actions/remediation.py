"""Reads and writes of the remediation tables: the current plans, what `apply_remediation` carried out, and the
changes each inventory detected (`remediation_events`)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from glue_inventory.storage.repository import Bind, chunks, dialect_insert, transaction
from glue_inventory.storage.tables import (
    data_jobs,
    platforms,
    remediation_applications,
    remediation_events,
    remediation_plans,
    utcnow,
)

# Postgres advisory lock key of apply_remediation ("glueappl"): one apply run at a time per inventory database.
_APPLY_LOCK = 0x676C_7565_6170_706C


class ApplyInProgress(RuntimeError):
    """Another apply_remediation run holds the apply lock of this inventory database."""


_BUSY = ("another apply_remediation run is applying plans to this inventory database: wait for it to finish "
         "(its run in the Dagster UI), then launch this one again")


@contextmanager
def apply_lock(bind: Bind) -> Iterator[None]:
    """One apply_remediation at a time: a Postgres session advisory lock (a SQLite database: an exclusive lock on
    `<database>.apply-lock`). Either goes with the process that holds it, so a killed run leaves no lock behind.
    Raises ApplyInProgress at once when another run holds it."""
    engine = bind if isinstance(bind, sa.Engine) else bind.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": _APPLY_LOCK}).scalar_one():
                raise ApplyInProgress(_BUSY)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _APPLY_LOCK})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield  # a private in-memory database: no other process can reach it
        return
    with open(Path(database).with_name(Path(database).name + ".apply-lock"), "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ApplyInProgress(_BUSY) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def replace_plans(bind: Bind, plans: Sequence[dict[str, Any]]) -> int:
    """Make `plans` the current ones (upserted by plan id: a plan made again keeps its row); the rest stay as
    history with is_current false."""
    now = utcnow()
    table = remediation_plans
    rows = [{"plan_id": p["plan_id"], "data_job_id": p["data_job_id"], "kind": p["kind"],
             "fingerprint": p["fingerprint"], "expected_monthly_savings_usd": p["expected_monthly_savings_usd"],
             "applicable": p["applicable"], "plan": p, "is_current": True, "created_at": now, "updated_at": now}
            for p in plans]
    with transaction(bind) as conn:
        conn.execute(sa.update(table).where(table.c.is_current).values(is_current=False, updated_at=now))
        if rows:
            stmt = dialect_insert(conn, table)
            stmt = stmt.on_conflict_do_update(index_elements=["plan_id"], set_={
                column: stmt.excluded[column] for column in ("data_job_id", "kind", "fingerprint", "applicable",
                                                             "expected_monthly_savings_usd", "plan", "is_current",
                                                             "updated_at")})
            for chunk in chunks(rows):
                conn.execute(stmt, chunk)
    return len(rows)


def current_plans(bind: Bind) -> list[dict[str, Any]]:
    """The current plans (the plan JSON as written, with `created_at`: when the plan was first made), best
    saving first."""
    table = remediation_plans
    with transaction(bind) as conn:
        rows = conn.execute(sa.select(table.c.plan, table.c.created_at).where(table.c.is_current)
                            .order_by(table.c.expected_monthly_savings_usd.desc(), table.c.plan_id))
        return [{**plan, "created_at": created_at} for plan, created_at in rows]


def start_application(bind: Bind, row: dict[str, Any]) -> int:
    """A new `remediation_applications` row (status in_progress, before its first step); its id."""
    with transaction(bind) as conn:
        return conn.execute(sa.insert(remediation_applications).values(**row, created_at=utcnow())
                            .returning(remediation_applications.c.id)).scalar_one()


def update_application(bind: Bind, application_id: int, **values: Any) -> None:
    """Progress (steps_done, changes) or the end (status, error) of an application, committed at once: a run
    killed after a step leaves that step recorded."""
    table = remediation_applications
    with transaction(bind) as conn:
        conn.execute(sa.update(table).where(table.c.id == application_id).values(**values))


def latest_applications(bind: Bind, plan_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per plan id: its latest application row (the newest attempt), for the plans that have one."""
    table = remediation_applications
    found: dict[str, dict[str, Any]] = {}
    with transaction(bind) as conn:
        for chunk in chunks(sorted(set(plan_ids))):
            for row in conn.execute(sa.select(table).where(table.c.plan_id.in_(chunk)).order_by(table.c.id)).mappings():
                found[row["plan_id"]] = dict(row)
    return found


def applications_since(bind: Bind, since: dict[int, datetime]) -> dict[int, list[dict[str, Any]]]:
    """Per job id: the plans applied successfully after the given time (its previous inventory)."""
    table = remediation_applications
    found: dict[int, list[dict[str, Any]]] = {}
    with transaction(bind) as conn:
        for chunk in chunks(since):
            query = sa.select(table.c.data_job_id, table.c.plan_id, table.c.kind, table.c.applied_at).where(
                table.c.data_job_id.in_(chunk), table.c.status == "applied")
            for row in conn.execute(query).mappings():
                if row["applied_at"] >= since[row["data_job_id"]]:
                    found.setdefault(row["data_job_id"], []).append(dict(row))
    return found


def recent_applications(bind: Bind, since: datetime) -> list[dict[str, Any]]:
    """Every application since `since`, newest first, with its job's key: what was applied, by whose approval."""
    table = remediation_applications
    query = (sa.select(table, data_jobs.c.partition_key.label("key"))
             .join(data_jobs, data_jobs.c.id == table.c.data_job_id)
             .where(table.c.applied_at >= since).order_by(table.c.applied_at.desc(), table.c.id.desc()))
    with transaction(bind) as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def current_plan_kinds(bind: Bind, data_job_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Per job id: plan kind → plan id of its current plans."""
    table = remediation_plans
    found: dict[int, dict[str, str]] = {}
    with transaction(bind) as conn:
        for chunk in chunks(data_job_ids):
            for job_id, kind, plan in conn.execute(sa.select(table.c.data_job_id, table.c.kind, table.c.plan_id)
                                                   .where(table.c.is_current, table.c.data_job_id.in_(chunk))):
                found.setdefault(job_id, {})[kind] = plan
    return found


def insert_events(bind: Bind, rows: Sequence[dict[str, Any]]) -> int:
    with transaction(bind) as conn:
        for chunk in chunks(rows):
            conn.execute(sa.insert(remediation_events), [{**row, "created_at": utcnow()} for row in chunk])
    return len(rows)


def events_since(bind: Bind, since: datetime) -> list[dict[str, Any]]:
    """Every change detected since `since`, with its job's key, name, account and tags (for the team)."""
    events = remediation_events
    query = (sa.select(events, data_jobs.c.partition_key, data_jobs.c.name, data_jobs.c.tags,
                       platforms.c.account_id)
             .join(data_jobs, data_jobs.c.id == events.c.data_job_id)
             .join(platforms, platforms.c.id == data_jobs.c.platform_id)
             .where(events.c.detected_at >= since).order_by(events.c.detected_at, events.c.id))
    with transaction(bind) as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def previous_states(bind: Bind, platform_id: int) -> dict[str, dict[str, Any]]:
    """The platform's live jobs as the last inventory stored them (name → row with its monthly projection), read
    before they are overwritten. Only the projection is read of the metrics JSON: 10,000 jobs' metrics are MBs."""
    columns = [*(data_jobs.c[name] for name in ("id", "name", "status", "worker_type", "number_of_workers",
                                                "max_capacity", "glue_version", "execution_class",
                                                "secret_argument_names", "last_seen_at")),
               data_jobs.c.metrics["monthly_projection_usd"].as_float().label("monthly_projection_usd")]
    with transaction(bind) as conn:
        rows = conn.execute(sa.select(*columns).where(data_jobs.c.platform_id == platform_id,
                                                      data_jobs.c.deleted_at.is_(None))).mappings()
        return {row["name"]: dict(row) for row in rows}
