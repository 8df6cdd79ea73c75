"""The documented command lines: Dagster's CLI, `dg launch`, and `glue-inventory`'s own commands."""

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import analysis_runs, data_jobs, deep_analysis_candidates

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]


def _run(command: list[str], env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture
def cli_env(tmp_path):
    fleet = build_fleet(15, 21, datetime.now(UTC), account_id="510987654321")
    with start_simulator(fleet) as sim:
        home = tmp_path / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("AWS_", "GLUE_INVENTORY_", "DAGSTER_"))}
        env |= sim.env() | {
            "DAGSTER_HOME": str(home),
            "GLUE_INVENTORY_DATABASE_URL": f"sqlite:///{tmp_path / 'inventory.db'}",
            "GLUE_INVENTORY_REPORTS_DIR": str(tmp_path / "reports"),
            "DAGSTER_EVENT_BATCH_SIZE": "1000",
            "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
        }
        yield env, sim


def test_dagster_asset_materialize_then_dg_launch(cli_env):
    env, sim = cli_env
    module = ["-m", "glue_inventory.definitions"]
    _run([str(BIN / "dagster"), "asset", "materialize", *module, "--select", "glue_jobs"], env)
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        keys = instance.get_dynamic_partitions("glue_jobs")
    expected = [j for j in sim.fleet.jobs if j.region == "us-east-1"]
    assert len(keys) == len(expected)
    _run([str(BIN / "dagster"), "asset", "materialize", *module, "--select", "job_preliminary_metrics",
          "--partition-range", f"{keys[0]}...{keys[-1]}"], env)
    _run([str(BIN / "dagster"), "asset", "materialize", *module, "--select", "deep_analysis_candidates"], env)

    engine = engine_for(env["GLUE_INVENTORY_DATABASE_URL"])
    with engine.connect() as conn:
        statuses = conn.execute(sa.select(data_jobs.c.partition_key, data_jobs.c.status)).all()
        candidates = conn.execute(sa.select(sa.func.count()).select_from(deep_analysis_candidates)).scalar_one()
    assert sorted(k for k, _ in statuses) == sorted(keys)
    assert all(status for _, status in statuses)
    assert candidates > 0

    # The deep analysis of one job, as docs/deep-analysis.md shows it.
    _run([str(BIN / "dagster"), "asset", "materialize", *module, "--select", "group:deep_analysis",
          "--partition", keys[0]], env)
    with engine.connect() as conn:
        deep = conn.execute(sa.select(sa.func.count()).select_from(analysis_runs)
                            .where(analysis_runs.c.analysis_type == "deep")).scalar_one()
    assert deep == 1

    # `dg launch` (the package is a dg project) re-analyses a single job.
    _run([str(BIN / "dg"), "launch", "--assets", "job_preliminary_metrics", "--partition", keys[0]], env)
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": keys[0]}))
    assert runs and runs[0].status == dg.DagsterRunStatus.SUCCESS


def test_repo_dagster_yaml_is_a_valid_postgres_instance(postgres_url):
    url = sa.make_url(postgres_url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    os.environ["DAGSTER_PG_URL"] = url
    try:
        with dg.DagsterInstance.from_config(str(REPO)) as instance:
            assert type(instance.run_storage).__name__ == "PooledRunStorage"
            assert instance.get_runs() == []
    finally:
        del os.environ["DAGSTER_PG_URL"]


def _glue_inventory(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "glue-inventory"), *args], capture_output=True, text=True, timeout=120,
                          env=env or dict(os.environ), cwd=REPO)


def test_demo_refuses_an_unwritable_home(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    done = _glue_inventory("demo", "--home", str(blocker / "inside"))
    assert done.returncode == 2
    assert "cannot write to" in done.stderr and "--home" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_db_upgrade_names_the_host_when_postgres_is_unreachable():
    done = _glue_inventory("db", "upgrade", "--url", "postgresql+psycopg://gi:s3cret-pw@127.0.0.1:1/none")
    assert done.returncode == 2
    assert "127.0.0.1:1" in done.stderr and "s3cret-pw" not in done.stderr


def test_db_upgrade_creates_the_contract_tables(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    done = _glue_inventory("db", "upgrade", "--url", url)
    assert done.returncode == 0, done.stderr
    tables = set(sa.inspect(sa.create_engine(url)).get_table_names())
    assert {"platforms", "data_jobs", "job_runs", "analysis_runs", "deep_analysis_candidates"} <= tables


def test_refresh_is_one_command(cli_env):
    env, sim = cli_env
    done = subprocess.run([str(BIN / "glue-inventory"), "refresh", "--deep", "1"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    engine = engine_for(env["GLUE_INVENTORY_DATABASE_URL"])
    with engine.connect() as conn:
        statuses = conn.execute(sa.select(data_jobs.c.status)).scalars().all()
        deep = conn.execute(sa.select(sa.func.count()).select_from(analysis_runs)
                            .where(analysis_runs.c.analysis_type == "deep")).scalar_one()
    assert len(statuses) == sum(1 for j in sim.fleet.jobs if j.region == "us-east-1")
    assert all(statuses) and deep == 1
    assert (Path(env["GLUE_INVENTORY_REPORTS_DIR"]) / "executive_summary.md").exists()
