"""`retention_job`: Dagster runs older than retention.dagster_runs_days go with their event logs, each job keeps
its newest retention.analyses_per_job analyses of each kind, and job_runs is never touched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa
import yaml
from dagster._core.storage.runs.schema import RunsTable

from glue_inventory.definitions import defs
from glue_inventory.orchestration.resources import GlueInventoryConfig, InventoryDatabase
from glue_inventory.orchestration.retention import retention_job
from glue_inventory.storage import repository
from glue_inventory.storage.analyses import prune_analyses
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import analysis_runs, job_runs


@dg.op
def _noop() -> None:
    return None


@dg.job
def _some_work():
    _noop()


def _job_with_history(engine: sa.Engine, preliminary: int, deep: int) -> int:
    platform = repository.upsert_platform(engine, name="prod", platform_type="aws_glue", account_id="111122223333",
                                          region="us-east-1", credentials={})
    now = datetime.now(UTC)
    job_id = repository.upsert_jobs(engine, platform, [{"name": "etl", "partition_key": "111122223333/us-east-1/etl"}],
                                    now)["etl"]
    repository.insert_analysis_runs(engine, [
        {"data_job_id": job_id, "analysis_type": kind, "dagster_run_id": f"{kind}-{n:03d}", "status": "succeeded",
         "created_at": now - timedelta(days=count - n)}
        for kind, count in (("preliminary", preliminary), ("deep", deep)) for n in range(count)])
    repository.upsert_runs(engine, [{"data_job_id": job_id, "run_id": f"jr_{n}", "state": "SUCCEEDED",
                                     "started_on": now - timedelta(days=400 - n)} for n in range(200)])
    return job_id


def _kept(engine: sa.Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(analysis_runs.c.analysis_type, analysis_runs.c.dagster_run_id)
                            .order_by(analysis_runs.c.dagster_run_id)).all()
    kept: dict[str, list[str]] = {}
    for kind, run_id in rows:
        kept.setdefault(kind, []).append(run_id)
    return kept


def test_prune_analyses_keeps_the_newest_of_each_kind_per_job(engine):
    _job_with_history(engine, preliminary=12, deep=3)
    assert prune_analyses(engine, keep_per_job=5) == 7
    assert _kept(engine) == {"deep": ["deep-000", "deep-001", "deep-002"],
                             "preliminary": [f"preliminary-{n:03d}" for n in range(7, 12)]}
    assert prune_analyses(engine, keep_per_job=5) == 0


def test_retention_job_deletes_old_runs_with_their_events_and_analyses_beyond_the_limit(sqlite_url, tmp_path):
    engine = engine_for(sqlite_url)
    _job_with_history(engine, preliminary=35, deep=2)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"retention": {"dagster_runs_days": 90, "analyses_per_job": 30}}))
    (tmp_path / "dagster_home").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "dagster_home")) as instance:
        runs = [_some_work.execute_in_process(instance=instance).run_id for _ in range(3)]
        old, recent = runs[:2], runs[2]
        with instance.run_storage.connect() as conn:
            conn.execute(RunsTable.update().where(RunsTable.c.run_id.in_(old)).values(
                create_timestamp=datetime.now(UTC).replace(tzinfo=None) - timedelta(days=91)))
        result = retention_job.execute_in_process(instance=instance, resources={
            "config": GlueInventoryConfig(config_path=str(config)), "inventory_db": InventoryDatabase(url=sqlite_url)})
        assert result.success
        assert result.output_for_node("prune_history") == {"dagster_runs_deleted": 2, "analyses_deleted": 5}
        assert [instance.get_run_by_id(run_id) for run_id in old] == [None, None]
        assert [instance.all_logs(run_id) for run_id in old] == [[], []]
        assert instance.get_run_by_id(recent) is not None and instance.all_logs(recent)
    kept = _kept(engine)
    assert kept["preliminary"] == [f"preliminary-{n:03d}" for n in range(5, 35)] and len(kept["deep"]) == 2
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(job_runs)).scalar_one() == 200


def test_retention_job_runs_daily_on_its_schedule():
    schedule = defs.get_schedule_def("retention_schedule")
    assert (schedule.cron_schedule, schedule.job_name) == ("0 5 * * *", "retention_job")
