"""Crash recovery on Postgres: a connection killed mid-write, a run process killed mid-way, a job re-created.

Each crash is followed by a retry, and the tables must then equal those of an undisturbed run of the
same fleet in a second database: nothing lost, nothing doubled.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from glue_inventory.keys import encode_partition_key
from glue_inventory.orchestration.automation.runs import RANGE_END, RANGE_START
from glue_inventory.pipeline import PipelineError, materialize, run_pipeline
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.db import dispose_engines, engine_for
from glue_inventory.storage.tables import analysis_runs, data_jobs, job_runs

ROOT = Path(__file__).resolve().parents[2]
APPLICATION = "glue_inventory"  # the application_name of the pipeline's Postgres connections
# psycopg's words for a backend terminated under it: mid-statement, or on the next pipelined read.
DROPPED = re.compile(r"terminating connection due to administrator command|server closed the connection")
JOB_COLUMNS = ("status", "metrics", "last_run_at", "last_run_state", "last_error", "runs_history_complete")
RUN_COLUMNS = ("run_id", "attempt", "state", "started_on", "completed_on", "execution_time_s", "dpu_seconds",
               "dpu_hours", "estimated_cost_usd", "worker_type", "number_of_workers", "max_capacity",
               "glue_version", "execution_class", "error_message")


def _create_database(server: sa.Engine) -> str:
    name = f"gi_test_{secrets.token_hex(6)}"
    with server.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE template0")
    return server.url.set(database=name).render_as_string(hide_password=False)


def _drop_database(server: sa.Engine, url: str) -> None:
    dispose_engines()
    with server.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {sa.engine.make_url(url).database} WITH (FORCE)")


@pytest.fixture
def reference_url(postgres_server):
    """A second empty database for the undisturbed run."""
    url = _create_database(postgres_server)
    yield url
    _drop_database(postgres_server, url)


def _use(monkeypatch, sim, url: str, tmp_path: Path) -> None:
    for name, value in sim.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", url)
    monkeypatch.setenv("GLUE_INVENTORY_REPORTS_DIR", str(tmp_path / "reports"))
    for name in ("AWS_PROFILE", "GLUE_INVENTORY_CONFIG", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def _preliminary(instance: dg.DagsterInstance) -> None:
    keys = instance.get_dynamic_partitions("glue_jobs")
    materialize(instance, ["job_preliminary_metrics"], {RANGE_START: keys[0], RANGE_END: keys[-1]})


def _inventory(instance: dg.DagsterInstance) -> None:
    materialize(instance, ["glue_jobs"])
    _preliminary(instance)


def snapshot(url: str) -> dict[str, object]:
    """What a refresh decides, without ids and write times: job status and metrics, runs, analyses per job."""
    with engine_for(url).connect() as conn:
        jobs = {row["partition_key"]: tuple(row[c] for c in JOB_COLUMNS)
                for row in conn.execute(sa.select(data_jobs)).mappings()}
        runs = sorted(tuple(row) for row in conn.execute(
            sa.select(data_jobs.c.partition_key, *(job_runs.c[c] for c in RUN_COLUMNS))
            .join(data_jobs, data_jobs.c.id == job_runs.c.data_job_id)))
        analyses = dict(conn.execute(
            sa.select(data_jobs.c.partition_key, sa.func.count())
            .join(analysis_runs, analysis_runs.c.data_job_id == data_jobs.c.id)
            .where(analysis_runs.c.analysis_type == "preliminary").group_by(data_jobs.c.partition_key)).all())
    return {"jobs": jobs, "runs": runs, "preliminary_analyses": analyses}


def _run_counts(url: str) -> dict[str, tuple[int, bool, str | None]]:
    """Per job: stored runs, whether its history is marked complete, its status."""
    with engine_for(url).connect() as conn:
        rows = conn.execute(
            sa.select(data_jobs.c.partition_key, sa.func.count(job_runs.c.id), data_jobs.c.runs_history_complete,
                      data_jobs.c.status)
            .outerjoin(job_runs, job_runs.c.data_job_id == data_jobs.c.id)
            .group_by(data_jobs.c.partition_key, data_jobs.c.runs_history_complete, data_jobs.c.status)).all()
    return {key: (count, complete, status) for key, count, complete, status in rows}


def _glue_runs(sim) -> dict[str, int]:
    return {encode_partition_key(j.account_id, j.region, j.name): len(j.runs) for j in sim.fleet.jobs}


def _assert_each_job_all_or_nothing(url: str, sim) -> tuple[dict[str, tuple[int, bool, str | None]], list[str]]:
    """A job's runs and its `runs_history_complete` flag are written together, or not at all.

    Returns the counts and the jobs with runs in Glue of which nothing was stored (cut off by the crash).
    """
    in_glue = _glue_runs(sim)
    counts = _run_counts(url)
    for key, (stored, complete, _) in counts.items():
        assert (stored, complete) in {(in_glue[key], True), (0, False)}, (key, stored, complete, in_glue[key])
    return counts, [key for key, (_, complete, _) in counts.items() if not complete and in_glue[key]]


def _failure_messages(instance: dg.DagsterInstance) -> list[str]:
    failed = [run for run in instance.get_runs() if run.status == dg.DagsterRunStatus.FAILURE]
    return [entry.dagster_event.step_failure_data.error.to_string()
            for run in failed for entry in instance.all_logs(run.run_id)
            if entry.dagster_event and entry.dagster_event.event_type == dg.DagsterEventType.STEP_FAILURE]


# --- (a) the Postgres connection is killed while a batch is being written -----------------------------------

TRIGGERS = {
    # One job's runs, written in their own transaction together with the job's history flag.
    "job_runs": "AFTER INSERT ON job_runs",
    # The IO manager's single transaction: status and metrics of every job of the run, and analysis_runs.
    "data_jobs": "AFTER UPDATE OF status ON data_jobs",
}


def _arm(url: str, target: str) -> None:
    """Hold the first write to `target` open (pg_sleep) so that it can be killed mid-transaction."""
    with sa.create_engine(url, poolclass=NullPool).begin() as conn:
        conn.exec_driver_sql("CREATE TABLE crash_control (armed boolean NOT NULL)")
        conn.exec_driver_sql("INSERT INTO crash_control VALUES (true)")
        conn.exec_driver_sql(
            "CREATE FUNCTION crash_window() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF (SELECT armed FROM crash_control) THEN PERFORM pg_sleep(60); END IF; RETURN NULL; END $$")
        conn.exec_driver_sql(f"CREATE TRIGGER crash_window {TRIGGERS[target]} FOR EACH STATEMENT "
                             "EXECUTE FUNCTION crash_window()")


class BackendKiller(threading.Thread):
    """From its own connection: once a pipeline backend is inside the held write, disarm and terminate it."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = sa.create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self.database = sa.engine.make_url(url).database
        self.killed: list[int] = []
        self.done = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + 300
        with self.engine.connect() as conn:
            while not self.done.is_set() and time.monotonic() < deadline:
                pids = conn.execute(sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = :db AND application_name = :app "
                    "AND wait_event = 'PgSleep'"), {"db": self.database, "app": APPLICATION}).scalars().all()
                if pids:
                    conn.exec_driver_sql("UPDATE crash_control SET armed = false")
                    for pid in pids:
                        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                    self.killed = list(pids)
                    return
                time.sleep(0.02)

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=10)
        self.engine.dispose()


@pytest.fixture(scope="module")
def undisturbed(postgres_server, tmp_path_factory):
    """A fleet served for the connection-kill tests, and the tables an undisturbed refresh of it writes."""
    fleet = build_fleet(20, 17, datetime.now(UTC), account_id="810987654321")
    url = _create_database(postgres_server)
    with start_simulator(fleet) as sim:
        with pytest.MonkeyPatch.context() as patch, dg.DagsterInstance.ephemeral() as instance:
            _use(patch, sim, url, tmp_path_factory.mktemp("reference"))
            _inventory(instance)
            expected = snapshot(url)
        yield sim, expected
    _drop_database(postgres_server, url)


@pytest.mark.parametrize("target", sorted(TRIGGERS))
def test_connection_killed_mid_batch_rolls_back_and_a_retry_converges(target, undisturbed, postgres_url, tmp_path,
                                                                     monkeypatch):
    sim, expected = undisturbed
    _use(monkeypatch, sim, postgres_url, tmp_path)
    with dg.DagsterInstance.ephemeral() as instance:
        materialize(instance, ["glue_jobs"])
        _arm(postgres_url, target)
        killer = BackendKiller(postgres_url)
        killer.start()
        try:
            with pytest.raises(PipelineError, match="job_preliminary_metrics failed"):
                _preliminary(instance)
        finally:
            killer.stop()
        assert killer.killed, "no write was caught mid-transaction"
        # What the user sees: a failed run whose step error names the dropped connection.
        assert any("OperationalError" in message and DROPPED.search(message)
                   for message in _failure_messages(instance))
        counts, cut_off = _assert_each_job_all_or_nothing(postgres_url, sim)
        # The metrics transaction never committed: no job has a status, no analysis was recorded.
        assert {status for _, _, status in counts.values()} == {None}
        assert snapshot(postgres_url)["preliminary_analyses"] == {}
        # Killed in a job's runs: that job's runs rolled back; killed in the metrics: every history was stored.
        assert bool(cut_off) is (target == "job_runs")

        _preliminary(instance)
    assert snapshot(postgres_url) == expected


# --- (b) the process running the asset is killed ----------------------------------------------------------------

def _pipeline_backends(url: str) -> list[str]:
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        states = conn.execute(sa.text(
            "SELECT state FROM pg_stat_activity WHERE datname = current_database() AND application_name = :app "
            "AND state <> 'idle'"), {"app": APPLICATION}).scalars().all()
    engine.dispose()
    return states


def _group_gone(pgid: int, timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _wait_for_runs(url: str, process: subprocess.Popen, log: Path, timeout_s: float = 300) -> int:
    engine = sa.create_engine(url, poolclass=NullPool)
    deadline = time.monotonic() + timeout_s
    try:
        with engine.connect() as conn:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    pytest.fail(f"the run finished before it could be killed:\n{log.read_text()[-3000:]}")
                stored = conn.execute(sa.select(sa.func.count()).select_from(job_runs)).scalar_one()
                conn.rollback()
                if stored:
                    return stored
                time.sleep(0.05)
    finally:
        engine.dispose()
    pytest.fail(f"no run was stored within {timeout_s} s:\n{log.read_text()[-3000:]}")


def test_killed_run_process_leaves_the_previous_state_and_a_rerun_converges(postgres_url, reference_url,
                                                                              tmp_path, monkeypatch):
    fleet = build_fleet(30, 19, datetime.now(UTC), account_id="820987654321")
    # Slow AWS (every call 250 ms): the run is still fetching histories when it is killed.
    with start_simulator(fleet, latency_ms=250) as sim:
        _use(monkeypatch, sim, reference_url, tmp_path)
        with dg.DagsterInstance.ephemeral() as instance:
            _inventory(instance)
        expected = snapshot(reference_url)

        home = tmp_path / "dagster_home"
        home.mkdir()
        _use(monkeypatch, sim, postgres_url, tmp_path)
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        with dg.DagsterInstance.get() as instance:
            materialize(instance, ["glue_jobs"])
            keys = instance.get_dynamic_partitions("glue_jobs")
        # A first key ending in "." (the job named "..") breaks the CLI's `start...end` syntax: see test_fuzz.
        start = next(key for key in keys if not key.endswith("."))
        log = tmp_path / "materialize.log"
        command = [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m",
                   "glue_inventory.definitions", "--select", "job_preliminary_metrics",
                   "--partition-range", f"{start}...{keys[-1]}"]
        with log.open("w") as output:
            # Its own process group: the kill reaches the step process Dagster forks as well.
            process = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=output,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_for_runs(postgres_url, process, log)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        assert _group_gone(process.pid), "a process of the killed run survived (e.g. Dagster's step process)"

        deadline = time.monotonic() + 30
        while _pipeline_backends(postgres_url) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _pipeline_backends(postgres_url) == [], "Postgres still holds the killed run's transaction"
        counts, cut_off = _assert_each_job_all_or_nothing(postgres_url, sim)
        assert cut_off, "the run was not killed mid-way"
        assert {status for _, _, status in counts.values()} == {None}

        with dg.DagsterInstance.get() as instance:
            # Nothing told Dagster: the killed run stays STARTED until run monitoring (the daemon) fails it.
            assert [run.status for run in instance.get_runs()
                    if "job_preliminary_metrics" in str(run.asset_selection)] == [dg.DagsterRunStatus.STARTED]
            _preliminary(instance)
        assert snapshot(postgres_url) == expected


# --- (c) a job deleted and re-created under the same name between two inventories ----------------------------

def _job_row(url: str, key: str) -> dict:
    with engine_for(url).connect() as conn:
        row = conn.execute(sa.select(data_jobs).where(data_jobs.c.partition_key == key)).mappings().one()
        runs = conn.execute(sa.select(job_runs.c.run_id).where(job_runs.c.data_job_id == row["id"])).scalars()
        return dict(row) | {"run_ids": set(runs)}


def test_job_recreated_under_the_same_name_keeps_its_history(postgres_url, tmp_path, monkeypatch):
    now = datetime.now(UTC)
    account = "830987654321"
    fleet = build_fleet(12, 23, now, account_id=account)
    with start_simulator(fleet) as sim, dg.DagsterInstance.ephemeral() as instance:
        _use(monkeypatch, sim, postgres_url, tmp_path)
        run_pipeline(instance, log=lambda _: None)
        old = next(j for j in fleet.jobs if j.region == "us-east-1" and j.runs and j.profile.status == "active"
                   and j.command["Name"] == "glueetl" and j.config.worker_type != "G.2X")
        key = encode_partition_key(account, "us-east-1", old.name)
        before = _job_row(postgres_url, key)
        assert before["status"] == "active" and before["run_ids"]

        # Deleted and created again (a Terraform replace): a new definition with no runs yet.
        template = next(j for j in build_fleet(6, 99, now, account_id=account).jobs if not j.runs)
        new = replace(template, name=old.name, region="us-east-1",
                      config=replace(template.config, worker_type="G.2X", number_of_workers=3),
                      command={**template.command, "ScriptLocation": old.script_location})
        sim.delete_job(old.name)
        sim.add_job(new)
        run_pipeline(instance, log=lambda _: None)
        recreated = _job_row(postgres_url, key)

        # The same row and partition, live, with the new definition and the whole history.
        assert recreated["id"] == before["id"] and key in instance.get_dynamic_partitions("glue_jobs")
        assert recreated["deleted_at"] is None and recreated["status"] == "active"
        assert (recreated["worker_type"], recreated["number_of_workers"]) == ("G.2X", 3)
        assert abs(recreated["created_on"] - new.created_on).total_seconds() < 1
        assert recreated["first_seen_at"] == before["first_seen_at"]
        assert recreated["run_ids"] == before["run_ids"]
        assert recreated["metrics"]["runs_total"] == len(before["run_ids"])

        # Runs of the new incarnation are fetched even though the old history was marked complete.
        sim.add_runs(old.name, 2)
        run_pipeline(instance, log=lambda _: None)
        after_runs = _job_row(postgres_url, key)
        assert after_runs["run_ids"] > before["run_ids"] and len(after_runs["run_ids"]) == len(before["run_ids"]) + 2

        # Deleted with an inventory in between: marked deleted, partition dropped; re-created: live again.
        sim.delete_job(old.name)
        run_pipeline(instance, log=lambda _: None)
        gone = _job_row(postgres_url, key)
        assert gone["status"] == "deleted" and gone["deleted_at"] is not None
        assert key not in instance.get_dynamic_partitions("glue_jobs")
        sim.add_job(new)
        run_pipeline(instance, log=lambda _: None)
        back = _job_row(postgres_url, key)
        assert back["status"] == "active" and back["deleted_at"] is None and back["id"] == before["id"]
        assert key in instance.get_dynamic_partitions("glue_jobs")
        assert back["run_ids"] == after_runs["run_ids"]
