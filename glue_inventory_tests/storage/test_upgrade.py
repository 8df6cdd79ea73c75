"""Upgrades with live data: a database created at the oldest migration and filled with a history (1,000 jobs,
100,000 runs; bench/upgrade.py measures 10,000 and 1,000,000) upgrades to head with `glue-inventory db upgrade`,
loses nothing, and the current code reads every row; a database newer than the code is refused."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from glue_inventory.storage import repository
from glue_inventory.storage.db import current_revision, dispose_engines, engine_for, head_revision, make_engine
from glue_inventory.storage.tables import analysis_runs, data_jobs, job_runs, platforms
from glue_inventory_tests.storage.history import OLDEST, T0, fill_history, migrate_to

JOBS, RUNS_PER_JOB = 1000, 100
CLI = str(Path(sys.executable).parent / "glue-inventory")


def _db_upgrade(url: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "db", "upgrade", "--url", url], capture_output=True, text=True, timeout=600)


def test_upgrade_from_the_oldest_migration_keeps_and_reads_every_row(postgres_url):
    migrate_to(postgres_url, OLDEST)
    ids = fill_history(postgres_url, JOBS, RUNS_PER_JOB)
    engine = make_engine(postgres_url)
    assert current_revision(engine) == OLDEST
    engine.dispose()

    result = _db_upgrade(postgres_url)
    assert result.returncode == 0, result.stderr
    engine = engine_for(postgres_url)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        counts = {table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                  for table in (platforms, data_jobs, job_runs, analysis_runs)}
        platform = conn.execute(sa.select(platforms)).mappings().one()
        jobs = conn.execute(sa.select(data_jobs).order_by(data_jobs.c.id)).mappings().all()
        analyses = conn.execute(sa.select(analysis_runs)).mappings().all()
    assert counts == {"platforms": 1, "data_jobs": JOBS, "job_runs": JOBS * RUNS_PER_JOB, "analysis_runs": JOBS}
    assert (platform["source"], platform["account_name"]) == ("config", None)  # columns added by 0003
    assert [job["name"] for job in jobs] == [f"job_{i:06d}" for i in range(JOBS)]
    assert all(job["job_bookmark_option"] is None and job["tags"] == {"owner": "data"} for job in jobs)
    assert {(a["analysis_type"], a["metrics"]["status"]) for a in analyses} == {("preliminary", "active")}
    # The current code's readers: every job's stored runs, and the history the metrics are computed from.
    stored = repository.existing_runs_bulk(engine, ids)
    assert sum(len(runs) for runs in stored.values()) == JOBS * RUNS_PER_JOB
    assert stored[ids[-1]][f"jr_{ids[-1]:06d}_{RUNS_PER_JOB - 1:05d}"][0] in {"SUCCEEDED", "FAILED", "TIMEOUT"}
    history = repository.run_history_for_metrics(engine, ids[:10], T0)
    assert history.counts == dict.fromkeys(ids[:10], RUNS_PER_JOB)
    assert {job_id: len(runs) for job_id, runs in history.runs.items()} == dict.fromkeys(ids[:10], RUNS_PER_JOB)
    # A refresh after the upgrade stores runs again, by the same path, without duplicating any.
    repository.upsert_runs(engine, [{"data_job_id": ids[0], "run_id": f"jr_{ids[0]:06d}_00000", "attempt": 0,
                                     "state": "SUCCEEDED", "started_on": T0, "fetched_at": datetime.now(UTC)}])
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(job_runs)).scalar_one() == JOBS * RUNS_PER_JOB
    dispose_engines()


def test_db_upgrade_refuses_a_database_newer_than_the_code(postgres_url):
    migrate_to(postgres_url, "head")
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    result = _db_upgrade(postgres_url)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "schema revision '9999', newer than this glue-inventory" in lines[0]
    assert f"its newest is '{head_revision()}'" in lines[0] and "upgrade glue-inventory" in lines[0]
