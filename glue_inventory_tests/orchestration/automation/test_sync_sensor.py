"""Job partitions and preliminary refreshes: `glue_job_sync_sensor` and `inventory_refresh_sensor`
against the simulator and a real database."""

import dataclasses
from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa

from glue_inventory.config import Settings
from glue_inventory.keys import encode_partition_key
from glue_inventory.orchestration.automation import build_sensors
from glue_inventory.orchestration.automation.runs import BATCH, RANGE_END, RANGE_START, partition_ranges
from glue_inventory.orchestration.resources import InventoryDatabase
from glue_inventory.pipeline import materialize
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import data_jobs

PRELIMINARY = dg.AssetKey("job_preliminary_metrics")
SENSORS = {sensor.name: sensor for sensor in build_sensors(Settings())}
glue_job_sync_sensor, inventory_refresh_sensor = SENSORS["glue_job_sync_sensor"], SENSORS["inventory_refresh_sensor"]


@pytest.mark.parametrize(("ordered", "wanted", "batch", "expected"), [
    ("abcdef", "", 3, []),
    ("abcdef", "abcdef", 3, [("a", "c"), ("d", "f")]),
    ("abcdef", "bf", 3, [("b", "b"), ("f", "f")]),  # f is 4 keys after b: a range of 3 cannot hold both
    ("abcdef", "bd", 3, [("b", "d")]),  # c comes along: one wide run beats two narrow ones
])
def test_contiguous_batches_cover_every_wanted_key_in_ranges_of_at_most_batch(ordered, wanted, batch, expected):
    ranges = partition_ranges(list(ordered), set(wanted), batch)
    assert ranges == expected
    for start, end in ranges:
        assert ordered.index(end) - ordered.index(start) < batch


@pytest.fixture
def fleet_env(database_url, tmp_path, monkeypatch):
    """An 8-job simulated fleet of its own (these tests add and delete jobs) and the database."""
    fleet = build_fleet(8, 5, datetime.now(UTC), account_id="810987654321")
    with start_simulator(fleet) as sim:
        for name, value in {**sim.env(), "GLUE_INVENTORY_DATABASE_URL": database_url,
                            "GLUE_INVENTORY_REPORTS_DIR": str(tmp_path / "reports")}.items():
            monkeypatch.setenv(name, value)
        for name in ("AWS_PROFILE", "GLUE_INVENTORY_CONFIG"):
            monkeypatch.delenv(name, raising=False)
        yield sim, database_url


def evaluate(sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None = None):
    return sensor(dg.build_sensor_context(instance=instance, cursor=cursor,
                                          resources={"inventory_db": InventoryDatabase()}))


def live_keys(url: str) -> set[str]:
    with engine_for(url).connect() as conn:
        return set(conn.execute(sa.select(data_jobs.c.partition_key).where(
            sa.or_(data_jobs.c.status.is_(None), data_jobs.c.status != "deleted"))).scalars())


def covered(ordered: list[str], result) -> list[str]:
    """Every partition key the run requests cover, in order; each request is one range of ≤ BATCH."""
    keys = []
    for request in result.run_requests:
        assert list(request.asset_selection) == [PRELIMINARY]
        start, end = ordered.index(request.tags[RANGE_START]), ordered.index(request.tags[RANGE_END])
        assert end - start < BATCH
        keys.extend(ordered[start:end + 1])
    return keys


def listed_jobs(sim) -> list:
    """The fleet's jobs in the region the default platform lists."""
    return [job for job in sim.fleet.jobs if job.region == "us-east-1"]


def partition_requests(result) -> dict[type, list[str]]:
    return {type(request): list(request.partition_keys) for request in result.dynamic_partitions_requests}


def test_sync_sensor_adds_partitions_for_new_jobs_and_deletes_vanished_ones(fleet_env):
    sim, url = fleet_env
    # `listed` keeps the inventory; `instance` is out of step with it (e.g. a new DAGSTER_HOME).
    with dg.DagsterInstance.ephemeral() as listed, dg.DagsterInstance.ephemeral() as instance:
        materialize(listed, ["glue_jobs"])
        live = live_keys(url)
        first = evaluate(glue_job_sync_sensor, instance)
        assert partition_requests(first) == {dg.AddDynamicPartitionsRequest: sorted(live)}
        instance.add_dynamic_partitions("glue_jobs", sorted(live))
        ordered = instance.get_dynamic_partitions("glue_jobs")
        assert set(covered(ordered, first)) == live  # never analysed: all requested
        for request in first.run_requests:
            materialize(instance, ["job_preliminary_metrics"], request.tags)
        assert isinstance(evaluate(glue_job_sync_sensor, instance), dg.SkipReason)

        victim = listed_jobs(sim)[0]
        sim.delete_job(victim.name)
        materialize(listed, ["glue_jobs"])
        second = evaluate(glue_job_sync_sensor, instance)
        assert partition_requests(second) == {
            dg.DeleteDynamicPartitionsRequest: [encode_partition_key(victim.account_id, victim.region, victim.name)]}
        assert second.run_requests == []


def test_refresh_sensor_refreshes_every_live_job_after_each_job_list(fleet_env):
    sim, url = fleet_env
    with dg.DagsterInstance.ephemeral() as instance:
        assert isinstance(evaluate(inventory_refresh_sensor, instance), dg.SkipReason)
        materialize(instance, ["glue_jobs"])
        first = evaluate(inventory_refresh_sensor, instance)
        ordered = instance.get_dynamic_partitions("glue_jobs")
        assert covered(ordered, first) == ordered and set(ordered) == live_keys(url)
        assert all(r.tags["glue-inventory/stage"] == "inventory" for r in first.run_requests)
        assert isinstance(evaluate(inventory_refresh_sensor, instance, first.cursor), dg.SkipReason)

        victim, template = listed_jobs(sim)[:2]
        sim.delete_job(victim.name)
        sim.add_job(dataclasses.replace(template, name="brand_new_job", runs=[]))
        materialize(instance, ["glue_jobs"])  # registers and deletes the partitions itself
        second = evaluate(inventory_refresh_sensor, instance, first.cursor)
        ordered = instance.get_dynamic_partitions("glue_jobs")
        assert set(covered(ordered, second)) == live_keys(url)
        assert encode_partition_key(template.account_id, template.region, "brand_new_job") in ordered
        assert encode_partition_key(victim.account_id, victim.region, victim.name) not in ordered
        assert {r.run_key for r in second.run_requests}.isdisjoint(r.run_key for r in first.run_requests)

        # A refresh about to start for every job: the next job list requests nothing twice.
        from glue_inventory.definitions import defs

        instance.create_run_for_job(defs.resolve_implicit_global_asset_job_def(), asset_selection={PRELIMINARY},
                                    tags={RANGE_START: ordered[0], RANGE_END: ordered[-1]},
                                    status=dg.DagsterRunStatus.NOT_STARTED)
        materialize(instance, ["glue_jobs"])
        third = evaluate(inventory_refresh_sensor, instance, second.cursor)
        assert third.run_requests == [] and third.cursor != second.cursor
