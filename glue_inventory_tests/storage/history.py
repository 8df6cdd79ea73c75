"""A database at an old schema revision holding a realistic history, for the upgrade test and bench/upgrade.py.

Platforms, jobs and analyses are written with the old revision's own columns (read from the database, as
that release wrote them); runs go through `repository.upsert_runs`, the bulk path a refresh stores them by
(job_runs has not changed since 0001).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from glue_inventory.storage import repository
from glue_inventory.storage.db import MIGRATIONS_DIR, make_engine

OLDEST = "0001"
T0 = datetime(2025, 12, 1, tzinfo=UTC)
STATES = ("SUCCEEDED",) * 8 + ("FAILED", "TIMEOUT")
JOBS_PER_STATEMENT = 1000


def migrate_to(url: str, revision: str) -> None:
    """Upgrade the database at `url` to `revision` (and no further)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            conn.commit()
    finally:
        engine.dispose()


def _run(job_id: int, n: int) -> dict:
    started = T0 + timedelta(hours=7 * n, minutes=job_id % 60)
    state = STATES[(job_id + n) % len(STATES)]
    return {"data_job_id": job_id, "run_id": f"jr_{job_id:06d}_{n:05d}", "attempt": 0, "state": state,
            "started_on": started, "completed_on": started + timedelta(minutes=12), "execution_time_s": 720,
            "dpu_seconds": None, "dpu_hours": 2.0, "estimated_cost_usd": 0.88, "worker_type": "G.1X",
            "number_of_workers": 10, "max_capacity": 10.0, "glue_version": "4.0", "execution_class": "STANDARD",
            "error_message": None if state == "SUCCEEDED" else "java.lang.OutOfMemoryError", "fetched_at": T0}


def fill_history(url: str, jobs: int, runs_per_job: int) -> list[int]:
    """`jobs` jobs on one platform with `runs_per_job` runs and one preliminary analysis each, written into the
    schema the database is at now; returns the job ids."""
    engine = make_engine(url)
    try:
        old = sa.MetaData()
        old.reflect(engine, only=["platforms", "data_jobs", "analysis_runs"])
        platforms, data_jobs, analysis_runs = (old.tables[name] for name in ("platforms", "data_jobs", "analysis_runs"))
        with engine.begin() as conn:
            platform = conn.execute(platforms.insert().returning(platforms.c.id), {
                "name": "prod", "platform_type": "aws_glue", "account_id": "111122223333", "region": "us-east-1",
                "credentials": {"role_arn": "arn:aws:iam::111122223333:role/glue-inventory-readonly"},
                "status": "ok", "created_at": T0, "updated_at": T0}).scalar_one()
            for first in range(0, jobs, JOBS_PER_STATEMENT):
                conn.execute(data_jobs.insert(), [{
                    "platform_id": platform, "name": f"job_{i:06d}",
                    "partition_key": f"111122223333/us-east-1/job_{i:06d}",
                    "status": "active", "job_type": "glueetl", "worker_type": "G.1X", "number_of_workers": 10,
                    "glue_version": "4.0", "tags": {"owner": "data"}, "metrics": {"cost_30d_usd": 0.88},
                    "runs_history_complete": True, "first_seen_at": T0, "last_seen_at": T0,
                    "created_at": T0, "updated_at": T0} for i in range(first, min(first + JOBS_PER_STATEMENT, jobs))])
            ids = list(conn.execute(sa.select(data_jobs.c.id).order_by(data_jobs.c.id)).scalars())
            conn.execute(analysis_runs.insert(), [{
                "data_job_id": job_id, "analysis_type": "preliminary", "dagster_run_id": "run-0", "status": "succeeded",
                "completed_at": T0, "metrics": {"status": "active"}, "created_at": T0} for job_id in ids])
        repository.upsert_runs(engine, (_run(job_id, n) for job_id in ids for n in range(runs_per_job)))
        return ids
    finally:
        engine.dispose()
