"""Dagster's storage as the repository's dagster.yaml configures it: Postgres, with its connections kept
between Dagster's reads and writes, fresh in a forked child, checked after a server drops them, closed with
the instance."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import psycopg
import pytest
import sqlalchemy as sa
import yaml
from dagster import EventLogEntry
from dagster._core.events import StepMaterializationData
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

REPO = Path(__file__).resolve().parents[2]
PARTITIONS = "storage_test"


def _home(path: Path, postgres_url: str, storage: str | None = None) -> Path:
    """The repository's dagster.yaml with its storage on `postgres_url`; `storage="postgres"` swaps the
    template's storage for dagster-postgres's own, with the same config."""
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    url = sa.make_url(postgres_url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    config["storage"]["custom"]["config"]["postgres_url"] = url
    if storage == "postgres":
        config["storage"] = {"postgres": config["storage"]["custom"]["config"]}
    path.mkdir(exist_ok=True)
    (path / "dagster.yaml").write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def home(tmp_path: Path, postgres_url: str) -> Path:
    return _home(tmp_path / "pooled", postgres_url)


@pytest.fixture
def opened() -> Iterator[Callable[[Callable[[], object]], int]]:
    """How many new database connections a callable opens (SQLAlchemy's pool event, every engine)."""
    count = [0]

    def on_connect(*_args) -> None:
        count[0] += 1

    sa.event.listen(sa.pool.Pool, "connect", on_connect)

    def measure(work: Callable[[], object]) -> int:
        before = count[0]
        work()
        return count[0] - before

    yield measure
    sa.event.remove(sa.pool.Pool, "connect", on_connect)


def _reads_and_writes(instance: dg.DagsterInstance, rounds: int = 20) -> None:
    for i in range(rounds):
        instance.add_dynamic_partitions(PARTITIONS, [f"key-{i}"])
        assert f"key-{i}" in instance.get_dynamic_partitions(PARTITIONS)
        instance.get_runs(limit=1)


def _server_connections(postgres_url: str) -> int:
    """Connections to the test's database, other than the one asking."""
    url = sa.make_url(postgres_url)
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                            (url.database,)).fetchone()[0]


def test_the_template_keeps_one_connection_per_storage_where_dagster_postgres_opens_one_per_call(
        tmp_path, home, postgres_url, opened):
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        pooled = opened(lambda: _reads_and_writes(instance))
    with dg.DagsterInstance.from_config(str(_home(tmp_path / "plain", postgres_url, "postgres"))) as instance:
        plain = opened(lambda: _reads_and_writes(instance))
    assert pooled <= 3, pooled  # at most one per storage, on first use
    assert plain >= 60, plain  # 60 reads and writes


def test_a_forked_child_opens_its_own_connections_and_leaves_the_parent_s(home, opened):
    with dg.DagsterInstance.from_config(str(home)) as instance:
        _reads_and_writes(instance, rounds=1)  # the parent's pools now hold connections
        child = os.fork()
        if child == 0:  # the child: its first read must not go over the parent's connection
            status = 1
            try:
                new = opened(lambda: instance.add_dynamic_partitions(PARTITIONS, ["from-the-child"]))
                status = 0 if new >= 1 else 2
            finally:
                os._exit(status)  # noqa: SLF001 - leave a forked child without the parent's cleanup
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0, "the child reused the parent's pooled connection"
        assert opened(lambda: _reads_and_writes(instance, rounds=2)) == 0  # the parent's are still sound
        assert "from-the-child" in instance.get_dynamic_partitions(PARTITIONS)


def test_connections_the_server_dropped_are_replaced_before_use(home, postgres_url):
    with dg.DagsterInstance.from_config(str(home)) as instance:
        _reads_and_writes(instance, rounds=1)
        url = sa.make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as admin:
            dropped = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                                    (sa.make_url(postgres_url).database,)).fetchone()[0]
        assert dropped >= 1
        _reads_and_writes(instance, rounds=2)  # a restarted server or an idle timeout: no error


def test_disposing_the_instance_closes_its_connections(home, postgres_url):
    instance = dg.DagsterInstance.from_config(str(home))
    _reads_and_writes(instance, rounds=1)
    assert _server_connections(postgres_url) >= 1
    instance.dispose()
    deadline = time.monotonic() + 5  # a backend leaves pg_stat_activity a moment after its client closed
    while _server_connections(postgres_url) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _server_connections(postgres_url) == 0


def _materializations(run_id: str, partitions: list[str]) -> list[EventLogEntry]:
    """A run's materializations of a partitioned asset, as Dagster logs them (one per partition, with tags and
    metadata: text that JSON must escape included)."""
    return [EventLogEntry(
        error_info=None, level=10, user_message="", run_id=run_id, timestamp=1_796_650_218.937415 + index,
        step_key="job_preliminary_metrics", job_name="__ASSET_JOB",
        dagster_event=dg.DagsterEvent(
            event_type_value=dg.DagsterEventType.ASSET_MATERIALIZATION.value, job_name="__ASSET_JOB",
            event_specific_data=StepMaterializationData(dg.AssetMaterialization(
                asset_key="job_preliminary_metrics", partition=partition,
                tags={"dagster/data_version": f"v{index}", "dagster/code_version": run_id},
                metadata={"throttling": 'none "quoted" \\ é\n', "jobs": index})),
            step_key="job_preliminary_metrics"))
        for index, partition in enumerate(partitions)]


def _stored(engine: sa.Engine, run_id: str) -> tuple[list[tuple], list[tuple]]:
    """The run's event rows in id order (its own run id left out) and the asset tags stored for each."""
    with engine.connect() as conn:
        events = conn.execute(sa.text(
            "SELECT id, event, dagster_event_type, timestamp, step_key, asset_key, partition FROM event_logs "
            "WHERE run_id = :run ORDER BY id"), {"run": run_id}).fetchall()
        tags = conn.execute(sa.text(
            "SELECT t.event_id, t.key, t.value, t.event_timestamp, t.asset_key FROM asset_event_tags t "
            "JOIN event_logs e ON e.id = t.event_id WHERE e.run_id = :run ORDER BY t.event_id, t.key"),
            {"run": run_id}).fetchall()
    position = {row[0]: index for index, row in enumerate(events)}
    return ([(row[1].replace(run_id, "RUN"), *row[2:]) for row in events],
            [(position[row[0]], *(value.replace(run_id, "RUN") for value in row[1:3]), *row[3:]) for row in tags])


def test_a_batch_of_materializations_is_stored_as_dagster_postgres_stores_it(tmp_path, home, postgres_url):
    """The template's storage sends a batch's rows as one JSON parameter: the rows stored, their order and the
    tags found by their ids are dagster-postgres's own."""
    partitions = [f"70000000000{index % 3}/us-east-1/job_{index}" for index in range(1200)]
    stored = {}
    for name, path in (("pooled", home), ("plain", _home(tmp_path / "plain", postgres_url, "postgres"))):
        run_id = f"run-{name}-{os.getpid()}"
        with dg.DagsterInstance.from_config(str(path)) as instance:
            storage = instance.event_log_storage
            storage.store_event_batch(_materializations(run_id, partitions))
            stored[name] = _stored(storage._engine, run_id)  # noqa: SLF001 - the rows as stored
            records = instance.fetch_materializations(dg.AssetKey("job_preliminary_metrics"), limit=2).records
            assert [r.partition_key for r in records if r.run_id == run_id] == partitions[:-3:-1]
    assert len(stored["pooled"][0]) == len(partitions) and [row[-1] for row in stored["pooled"][0]] == partitions
    assert len(stored["pooled"][1]) == len(partitions)  # Dagster indexes the data version of each
    assert stored["pooled"] == stored["plain"]
