"""Scale-out on Dagster's own engines, unchanged code: the multiprocess executor on a Postgres instance, and
dagster-celery with two local workers on RabbitMQ (or Redis). Both must give the simulator's ground truth."""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import make_url

from glue_inventory import DAGSTER_SPEED_ENV
from glue_inventory.keys import encode_partition_key
from glue_inventory.orchestration.assets import DEEP_ASSET_KEYS
from glue_inventory.orchestration.automation.runs import RANGE_END, RANGE_START
from glue_inventory.simulate import Simulator, build_fleet, start_simulator
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import analysis_runs, data_jobs, deep_analysis_candidates

DEEP_ASSETS = [key.to_user_string() for key in DEEP_ASSET_KEYS]

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
CELERY_DEFS = "glue_inventory_tests.scale.celery_defs"
BROKER_VAR = "GLUE_INVENTORY_TEST_CELERY_BROKER"
# RabbitMQ first (dagster-celery's default broker), Redis if RabbitMQ is not there.
BROKERS = {"RabbitMQ": "pyamqp://guest:guest@127.0.0.1:5672//", "Redis": "redis://127.0.0.1:6379/0"}
CLI_TIMEOUT_S = 180
WORKER_START_TIMEOUT_S = 60


@pytest.fixture
def dagster_pg_url(postgres_server: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database for Dagster's own storage (apart from the inventory's: both use Alembic), in
    DAGSTER_PG_URL as the repo's dagster.yaml expects."""
    name = f"gi_dagster_{secrets.token_hex(6)}"
    with postgres_server.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE template0")
    # dagster-postgres breaks on psycopg 3: its URL scheme must be postgresql+psycopg2.
    url = postgres_server.url.set(drivername="postgresql+psycopg2", database=name).render_as_string(
        hide_password=False)
    monkeypatch.setenv("DAGSTER_PG_URL", url)
    yield url
    with postgres_server.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class Deployment:
    """One machine's deployment: the repo's dagster.yaml on Postgres, the inventory on Postgres, a simulated fleet."""

    env: dict[str, str]
    home: Path
    inventory_url: str
    sim: Simulator

    def materialize(self, module: str, assets: list[str], config: Path | None,
                    partitions: tuple[str, str] | None = None) -> None:
        """`dagster asset materialize`, as a user types it; `partitions` is a (first, last) range."""
        command = [str(BIN / "dagster"), "asset", "materialize", "-m", module, "--select", ",".join(assets)]
        if config:
            command += ["-c", str(config)]
        if partitions:
            command += ["--partition-range", "...".join(partitions)]
        done = subprocess.run(command, env=self.env, cwd=REPO, capture_output=True, text=True,
                              timeout=CLI_TIMEOUT_S)
        assert done.returncode == 0, done.stderr[-4000:]

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home))


@contextmanager
def _deployment(tmp_path: Path, inventory_url: str, dagster_pg_url: str, fleet_size: int, seed: int,
               account_id: str) -> Iterator[Deployment]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    fleet = build_fleet(fleet_size, seed, datetime.now(UTC), account_id=account_id)
    with start_simulator(fleet) as sim:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("AWS_", "GLUE_INVENTORY_", "DAGSTER_", "OPENAI_"))}
        env |= sim.env() | DAGSTER_SPEED_ENV | {
            "DAGSTER_HOME": str(home),
            "DAGSTER_PG_URL": dagster_pg_url,
            "GLUE_INVENTORY_DATABASE_URL": inventory_url,
            "GLUE_INVENTORY_REPORTS_DIR": str(tmp_path / "reports"),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(REPO),
        }
        deploy = Deployment(env=env, home=home, inventory_url=inventory_url, sim=sim)
        # Dagster's tables first, as serve makes them: workers starting together on an empty database
        # would both create them, and one fails (`type "runs" already exists`).
        deploy.instance().dispose()
        yield deploy


def _write_run_config(path: Path, executor_config: dict) -> Path:
    path.write_text(yaml.safe_dump({"execution": {"config": executor_config}}))
    return path


def _assert_ground_truth(deploy: Deployment, with_candidates: bool = True) -> dict[str, dict]:
    """Status, 30-day cost, failure rate (and candidate reasons) of every job equal the simulator's answers."""
    truth = {encode_partition_key(*key.split("/", 2)): t
             for key, t in deploy.sim.truth(datetime.now(UTC)).items() if f"/{REGION}/" in key}
    with engine_for(deploy.inventory_url).connect() as conn:
        jobs = {row["partition_key"]: dict(row) for row in conn.execute(sa.select(data_jobs)).mappings()}
        candidates = deep_analysis_candidates.c
        reasons = dict(conn.execute(sa.select(candidates.data_job_id, candidates.reasons)
                                    .where(candidates.is_current)).all())
    assert set(jobs) == set(truth)
    got = {key: (job["status"], round(job["metrics"]["cost_30d_usd"], 6), round(job["metrics"]["failure_rate_30d"], 6),
                 set(reasons.get(job["id"], ())) if with_candidates else None) for key, job in jobs.items()}
    want = {key: (t.status, round(t.cost_30d_usd, 6), round(t.failure_rate_30d, 6),
                  set(t.reasons) if with_candidates else None) for key, t in truth.items()}
    assert got == want
    return jobs


def _step_processes(instance: dg.DagsterInstance, run_id: str) -> tuple[int, dict[str, int], dict[str, str]]:
    """The run's orchestrating pid, each step's pid, and the Celery worker each step ran on (if any)."""
    run_pid, pids, workers = 0, {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.RUN_START:
            run_pid = event.pid
        elif event.event_type == dg.DagsterEventType.STEP_START:
            pids[event.step_key] = event.pid
        elif event.event_type == dg.DagsterEventType.ENGINE_EVENT and event.step_key:
            worker = event.engine_event_data.metadata.get("Celery worker")
            if worker is not None:
                workers[event.step_key] = worker.value
    return run_pid, pids, workers


def _all_partitions(deploy: Deployment) -> list[str]:
    with deploy.instance() as instance:
        return instance.get_dynamic_partitions("glue_jobs")


def test_multiprocess_executor_on_postgres(postgres_url, dagster_pg_url, tmp_path):
    # forkserver with the code preloaded: each step process forks from one that has already imported it.
    config = _write_run_config(tmp_path / "multiprocess.yaml", {"multiprocess": {
        "max_concurrent": 2, "start_method": {"forkserver": {"preload_modules": ["glue_inventory.definitions"]}}}})
    with _deployment(tmp_path, postgres_url, dagster_pg_url, 18, 31, "150987654321") as deploy:
        deploy.materialize("glue_inventory.definitions", ["glue_jobs"], config)
        keys = _all_partitions(deploy)
        deploy.materialize("glue_inventory.definitions", ["job_preliminary_metrics"], config, (keys[0], keys[-1]))
        deploy.materialize("glue_inventory.definitions", ["deep_analysis_candidates"], config)
        _assert_ground_truth(deploy)

    with deploy.instance() as instance:
        runs = instance.get_runs()
        assert type(instance.run_storage).__name__ == "PooledRunStorage"
        assert [run.status for run in runs] == [dg.DagsterRunStatus.SUCCESS] * 3
        assert runs[1].tags[RANGE_START] == keys[0] and runs[1].tags[RANGE_END] == keys[-1]
        for run in runs:
            run_pid, pids, _ = _step_processes(instance, run.run_id)
            assert pids and run_pid not in pids.values(), (run_pid, pids)


def test_default_executor_runs_a_lone_step_in_the_run_process(postgres_url, dagster_pg_url, tmp_path):
    # No run config: the code location's executor. A run of one asset and its checks pays no second process;
    # the deep analysis's several assets each get one, as the multiprocess executor runs them.
    with _deployment(tmp_path, postgres_url, dagster_pg_url, 8, 41, "170987654321") as deploy:
        deploy.materialize("glue_inventory.definitions", ["glue_jobs"], None)
        keys = _all_partitions(deploy)
        deploy.materialize("glue_inventory.definitions", ["job_preliminary_metrics"], None, (keys[0], keys[-1]))
        deploy.materialize("glue_inventory.definitions", DEEP_ASSETS, None, (keys[0], keys[0]))
        _assert_ground_truth(deploy, with_candidates=False)

    with deploy.instance() as instance:
        *several, listing = instance.get_runs()  # newest first
        run_pid, pids, _ = _step_processes(instance, listing.run_id)
        assert "glue_jobs" in pids and len(pids) > 1 and set(pids.values()) == {run_pid}  # with its checks
        run_pid, pids, _ = _step_processes(instance, several[1].run_id)
        assert set(pids.values()) == {run_pid}
        run_pid, pids, _ = _step_processes(instance, several[0].run_id)
        assert len(pids) > 1 and run_pid not in pids.values(), (run_pid, pids)


def _celery_broker() -> tuple[str, str]:
    """(broker URL, result backend URL) of the first reachable broker; skips, or fails under CI, if none is."""
    from kombu import Connection
    from kombu.exceptions import OperationalError

    override = os.environ.get(BROKER_VAR)
    candidates = {BROKER_VAR: override} if override else BROKERS
    reasons = []
    for name, url in candidates.items():
        try:
            with Connection(url, connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=1)
        except (OSError, OperationalError, ImportError) as exc:
            reasons.append(f"{name} at {_broker_host(url)} ({exc})")
            continue
        return url, "rpc://" if url.startswith(("amqp", "pyamqp")) else url
    message = (f"no Celery broker reachable: {'; '.join(reasons)} — start RabbitMQ (or Redis), "
               f"or set {BROKER_VAR}")
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _broker_host(url: str) -> str:
    parsed = make_url(url.replace("pyamqp://", "amqp://", 1))
    return f"{parsed.host}:{parsed.port}"


@dataclass
class Worker:
    node: str
    process: subprocess.Popen
    log: Path

    def owns(self, pid: int) -> bool:
        """Whether `pid` is this worker or one of its pool processes (they share its process group)."""
        try:
            return os.getpgid(pid) == self.process.pid
        except ProcessLookupError:
            return False


@contextmanager
def _celery_workers(deploy: Deployment, config: Path, broker: str, queue: str, count: int,
                   logs: Path) -> Iterator[list[Worker]]:
    """`count` `dagster-celery worker start` processes on `queue`, one task at a time each; stopped on exit."""
    from celery import Celery
    from kombu import Connection

    tag = secrets.token_hex(3)
    workers = []
    try:
        for index in range(1, count + 1):
            name = f"glue-inventory-{tag}-{index}"
            log = logs / f"{name}.log"
            with log.open("w") as out:
                process = subprocess.Popen(
                    [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y", str(config),
                     "-q", queue, "-n", name, "-i", CELERY_DEFS, "--", "--concurrency=1", "--without-gossip",
                     "--without-mingle"],
                    env=deploy.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            workers.append(Worker(node=f"{name}@{socket.gethostname()}", process=process, log=log))
        _wait_until_ready(Celery(broker=broker), workers)
        yield workers
    except BaseException:
        for worker in workers:
            print(f"--- {worker.node}\n{worker.log.read_text()[-4000:]}")  # pytest shows it on failure
        raise
    finally:
        for worker in workers:
            _stop(worker.process)
        with Connection(broker, connect_timeout=3) as conn:
            channel = conn.default_channel
            if conn.transport.driver_type == "redis":
                # kombu's Redis transport deletes only the bindings this connection made: make the one celery did.
                channel.exchange_declare(queue, "direct")
                channel.queue_bind(queue, exchange=queue, routing_key=queue)
            channel.queue_delete(queue)
            channel.exchange_delete(queue)


def _wait_until_ready(app, workers: list[Worker]) -> None:
    nodes = {worker.node for worker in workers}
    deadline = time.monotonic() + WORKER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        dead = [w for w in workers if w.process.poll() is not None]
        assert not dead, f"celery worker {dead[0].node} exited: {dead[0].log.read_text()[-3000:]}"
        answered = {node for reply in app.control.ping(destination=sorted(nodes), timeout=1) for node in reply}
        if answered >= nodes:
            return
    pytest.fail(f"celery workers not ready after {WORKER_START_TIMEOUT_S}s: {workers[0].log.read_text()[-3000:]}")


def _live_members(pgid: int) -> list[int]:
    """The processes of group `pgid` that have not exited (zombies excluded), from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except OSError:
            continue  # exited while we looked
        if int(group) == pgid and state != "Z":
            members.append(int(stat.parent.name))
    return members


def _stop(process: subprocess.Popen) -> None:
    """Warm shutdown of the worker's whole process group (the CLI, celery and its pool), then a kill.

    Waiting for the CLI is not enough: celery outlives it and, while it runs, would declare its queue again.
    """
    for sig, wait_s in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait_s
        while _live_members(process.pid) and time.monotonic() < deadline:
            process.poll()
            time.sleep(0.2)
        if not _live_members(process.pid):
            break
    process.wait(timeout=10)


def test_celery_executor_with_two_workers(postgres_url, dagster_pg_url, tmp_path):
    broker, backend = _celery_broker()
    # A queue of this test's own: other Celery users of the same broker never take its tasks, nor it theirs.
    queue = f"glue-inventory-test-{secrets.token_hex(4)}"
    # The rpc backend's reply queue of each launching process then expires 5 minutes after it ends, not a day.
    config = _write_run_config(tmp_path / "celery.yaml", {
        "broker": broker, "backend": backend, "config_source": {"task_default_queue": queue, "result_expires": 300}})
    with _deployment(tmp_path, postgres_url, dagster_pg_url, 16, 37, "160987654321") as deploy, \
            _celery_workers(deploy, config, broker, queue, 2, tmp_path) as workers:
        deploy.materialize(CELERY_DEFS, ["glue_jobs"], config)
        keys = _all_partitions(deploy)
        deploy.materialize(CELERY_DEFS, ["job_preliminary_metrics"], config, (keys[0], keys[-1]))
        deploy.materialize(CELERY_DEFS, DEEP_ASSETS, config, (keys[0], keys[1]))

        with deploy.instance() as instance:
            runs = instance.get_runs()
            assert [run.status for run in runs] == [dg.DagsterRunStatus.SUCCESS] * 3
            used = set()
            for run in runs:
                run_pid, pids, ran_on = _step_processes(instance, run.run_id)
                assert pids and set(ran_on) == set(pids), (pids, ran_on)
                for step, pid in pids.items():
                    worker = next((w for w in workers if w.node == ran_on[step]), None)
                    assert worker is not None, f"step {step} ran on {ran_on[step]}, not on this test's workers"
                    assert pid != run_pid and worker.owns(pid), (step, pid, worker.node)
                    used.add(worker.node)
            # The stages' freshness check runs with the stages it checks.
            assert set(_step_processes(instance, runs[0].run_id)[1]) == {*DEEP_ASSETS, "stage_freshness"}
        assert used == {worker.node for worker in workers}

    jobs = _assert_ground_truth(deploy, with_candidates=False)
    with engine_for(deploy.inventory_url).connect() as conn:
        deep = conn.execute(sa.select(analysis_runs.c.data_job_id).where(analysis_runs.c.analysis_type == "deep")
                            ).scalars().all()
    assert sorted(deep) == sorted(jobs[key]["id"] for key in keys[:2])
