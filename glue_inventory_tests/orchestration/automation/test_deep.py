"""Choosing jobs for deep analysis, and `deep_analysis_candidate_sensor` against the simulator and a real database."""

import dataclasses
from datetime import UTC, datetime, timedelta

import boto3
import dagster as dg
import pytest
import sqlalchemy as sa

from glue_inventory.analysis.deep_selection import (
    OPT_TAG,
    DeepInputs,
    LaneEntry,
    change_reason,
    chosen,
    lane_label,
    lanes,
    opt_in,
)
from glue_inventory.config import Settings
from glue_inventory.keys import decode_partition_key
from glue_inventory.orchestration.assets import DEEP_ASSET_KEYS
from glue_inventory.orchestration.automation import build_sensors
from glue_inventory.orchestration.automation.deep import read_cursor
from glue_inventory.orchestration.automation.runs import RANGE_END, RANGE_START, STAGE_TAG, partition_ranges
from glue_inventory.orchestration.resources import GlueInventoryConfig, InventoryDatabase
from glue_inventory.pipeline import materialize, run_pipeline
from glue_inventory.services.deep_selection import deep_analysis_plan
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import data_jobs, deep_analysis_candidates

NOW = datetime(2026, 3, 1, tzinfo=UTC)
TOP_K = 4  # two by saving, two by risk
DEEP = [key.to_user_string() for key in DEEP_ASSET_KEYS]
deep_analysis_candidate_sensor = {s.name: s for s in build_sensors(Settings())}["deep_analysis_candidate_sensor"]


def job(key: str, lane: str | None = None, rank: int | None = None, tag: bool | None = None, **fields) -> DeepInputs:
    return DeepInputs(key=key, data_job_id=hash(key) % 1000, lane=lane, rank=rank, opt_in=tag, **fields)


@pytest.mark.parametrize(("tags", "expected"), [
    ({OPT_TAG: "true"}, True), ({OPT_TAG: "TRUE"}, True), ({"Glue-Inventory:Deep-Analysis": "false"}, False),
    ({OPT_TAG: "maybe"}, None), ({OPT_TAG: ""}, None), ({}, None), (None, None),
])
def test_opt_in_tag(tags, expected):
    assert opt_in(tags) is expected


def entry(key: str, savings: float = 0.0, risk: float = 0.0, tag: bool | None = None) -> LaneEntry:
    return LaneEntry(key, savings, risk, tag)


@pytest.mark.parametrize(("entries", "sizes", "expected"), [
    # the top by saving, then the top of the others by risk
    ([entry("a", 50), entry("b", 90), entry("c", 70, 1000), entry("d", 0, 250)], (2, 2),
     {"b": ("savings", 1), "c": ("savings", 2), "d": ("risk", 1)}),
    ([entry("a", 50, 10), entry("b", 90), entry("c", 70, 1000)], (1, 2),
     {"b": ("savings", 1), "c": ("risk", 1), "a": ("risk", 2)}),
    ([entry("b", 5), entry("a", 5)], (1, 0), {"a": ("savings", 1)}),  # ties by key
    ([entry("a", 0, 250, False), entry("b", 9, 0, False), entry("c", 1, 10)], (1, 1),
     {"c": ("savings", 1)}),  # opted out: never; nothing to save or no risk: not in that lane
    ([entry("a", 1, 50), entry("b", 1, 50)], (0, 1), {"a": ("risk", 1)}),  # risk ties by saving, then key
    ([entry("a", 5, 50)], (0, 0), {}),
])
def test_lanes_take_the_top_by_saving_then_the_top_of_the_rest_by_risk(entries, sizes, expected):
    assert lanes(entries, *sizes) == expected


@pytest.mark.parametrize(("jobs", "expected"), [
    ([job("a", "risk", 1), job("b", "savings", 2), job("c", "savings", 1), job("d")],
     [("c", "savings", 1), ("b", "savings", 2), ("a", "risk", 1)]),
    ([job("a", "savings", 1, tag=False), job("c")], []),  # opted out after the list was made
    ([job("a", "savings", 1), job("z"), job("y", tag=True), job("c", tag=True)],
     [("a", "savings", 1), ("c", "opt_in", 1), ("y", "opt_in", 2)]),  # opted in: always
    ([job("a", "risk", 1, tag=True)], [("a", "risk", 1)]),  # opted in and in a lane: once
])
def test_chosen_is_the_lanes_plus_opted_in(jobs, expected):
    assert [(j.key, j.lane, j.rank) for j in chosen(jobs)] == expected


def test_lane_label_says_why():
    assert lane_label("savings", 3) == "savings lane, #3 by estimated monthly saving"
    assert lane_label("risk", 1) == "risk lane, #1 by risk"
    assert OPT_TAG in lane_label("opt_in", 1)
    assert lane_label(None, None) is None


ANALYSED = job("k", "savings", 1, config="c1", runs_stored_at=NOW - timedelta(days=2), script_sha="s1",
               analysed_at=NOW - timedelta(days=1), analysed_sha="s1")


@pytest.mark.parametrize(("changes", "previous", "expected"), [
    ({}, {"k": "c1"}, None),
    ({}, None, None),  # first evaluation: only what was never analysed or changed
    ({"analysed_at": None}, {"k": "c1"}, "never analysed"),
    ({}, {"other": "c1"}, "new candidate"),
    ({"script_sha": "s2"}, {"k": "c1"}, "script changed"),
    ({"script_sha": None}, {"k": "c1"}, None),  # the script was not read again: nothing to compare
    ({"runs_stored_at": NOW}, {"k": "c1"}, "new runs"),
    ({"runs_stored_at": None}, {"k": "c1"}, None),
    ({"config": "c2"}, {"k": "c1"}, "configuration changed"),
    ({"config": "c2"}, None, None),
])
def test_change_reason(changes, previous, expected):
    assert change_reason(dataclasses.replace(ANALYSED, **changes), previous) == expected


@pytest.mark.parametrize(("wanted", "batch", "expected"), [
    ("", 50, []),
    ("abc", 50, [("a", "c")]),
    ("ace", 50, [("a", "a"), ("c", "c"), ("e", "e")]),  # never a key that is not wanted
    ("abcdf", 2, [("a", "b"), ("c", "d"), ("f", "f")]),
])
def test_exact_ranges(wanted, batch, expected):
    assert partition_ranges(list("abcdefg"), set(wanted), batch, exact=True) == expected


# --- the sensor, on a simulated fleet and a real database -------------------------------------------

@pytest.fixture
def fleet_env(database_url, tmp_path, monkeypatch):
    """A 12-job simulated fleet of its own (this test changes it), the database, two lanes of two."""
    config = tmp_path / "config.yaml"
    config.write_text(f"deep_analysis: {{top_k_savings: {TOP_K // 2}, top_k_risk: {TOP_K // 2}}}\n")
    fleet = build_fleet(12, 3, datetime.now(UTC), account_id="710987654321")
    with start_simulator(fleet) as sim:
        for name, value in {**sim.env(), "GLUE_INVENTORY_DATABASE_URL": database_url,
                            "GLUE_INVENTORY_REPORTS_DIR": str(tmp_path / "reports"),
                            "GLUE_INVENTORY_CONFIG": str(config)}.items():
            monkeypatch.setenv(name, value)
        for name in ("AWS_PROFILE", "OPENAI_API_KEY", "GLUE_INVENTORY_WEBHOOK_URL"):
            monkeypatch.delenv(name, raising=False)
        yield sim, database_url, str(config)


def evaluate(instance: dg.DagsterInstance, cursor: str | None, config_path: str):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={
        "config": GlueInventoryConfig(config_path=config_path), "inventory_db": InventoryDatabase()})
    return deep_analysis_candidate_sensor(context)


def requested(instance: dg.DagsterInstance, result) -> set[str]:
    """The partition keys the run requests cover, checking each run is a deep-analysis range."""
    ordered = instance.get_dynamic_partitions("glue_jobs")
    keys = set()
    for request in result.run_requests:
        assert list(request.asset_selection) == DEEP_ASSET_KEYS
        assert request.tags[STAGE_TAG] == "deep_analysis"
        start, end = ordered.index(request.tags[RANGE_START]), ordered.index(request.tags[RANGE_END])
        keys.update(ordered[start:end + 1])
    return keys


def execute(instance: dg.DagsterInstance, result) -> None:
    for request in result.run_requests:
        materialize(instance, DEEP, request.tags)


def top_candidates(url: str, chosen: bool = True) -> list[str]:
    """The jobs the lanes of the current list chose, savings lane first, by rank; or (`chosen` false) the
    candidates no lane chose, lowest score last."""
    table = deep_analysis_candidates
    query = sa.select(data_jobs.c.partition_key).join(table, table.c.data_job_id == data_jobs.c.id)
    if chosen:
        query = query.where(table.c.is_current, table.c.deep_lane.is_not(None)).order_by(
            table.c.deep_lane.desc(), table.c.deep_rank)
    else:
        query = query.where(table.c.is_current, table.c.deep_lane.is_(None)).order_by(
            table.c.score.desc(), data_jobs.c.partition_key)
    with engine_for(url).connect() as conn:
        return list(conn.execute(query).scalars())


def refresh(instance: dg.DagsterInstance) -> None:
    """glue_jobs, every partition's preliminary metrics, the candidate list."""
    materialize(instance, ["glue_jobs"])
    keys = instance.get_dynamic_partitions("glue_jobs")
    materialize(instance, ["job_preliminary_metrics"], {RANGE_START: keys[0], RANGE_END: keys[-1]})
    materialize(instance, ["deep_analysis_candidates"])


def test_deep_analysis_follows_new_candidates_and_changed_inputs(fleet_env):
    sim, url, config = fleet_env
    with dg.DagsterInstance.ephemeral() as instance:
        assert isinstance(evaluate(instance, None, config), dg.SkipReason)  # no candidate list yet
        run_pipeline(instance, log=lambda _: None)
        top = top_candidates(url)

        first = evaluate(instance, None, config)
        assert requested(instance, first) == set(top)
        execute(instance, first)
        assert isinstance(evaluate(instance, first.cursor, config), dg.SkipReason)  # same list, nothing to do

        # The analyses rescored their jobs from evidence (measured savings, findings), so the next list's lanes
        # may hold jobs never analysed: exactly those are requested, and then the plan is stable.
        materialize(instance, ["deep_analysis_candidates"])
        reranked = evaluate(instance, first.cursor, config)
        assert requested(instance, reranked) == set(top_candidates(url)) - set(top)
        execute(instance, reranked)
        top = top_candidates(url)
        materialize(instance, ["deep_analysis_candidates"])
        unchanged = evaluate(instance, reranked.cursor, config)
        assert unchanged.run_requests == []

        runs, reconfigured, rescripted = (decode_partition_key(key).name for key in top[:3])
        sim.add_runs(runs, 1)
        old = sim.fleet.job(reconfigured)
        sim.delete_job(reconfigured)  # moto has no UpdateJob: Glue's view of an edited job, re-created
        sim.add_job(dataclasses.replace(old, config=dataclasses.replace(
            old.config, number_of_workers=(old.config.number_of_workers or 2) + 3)))
        script = sim.fleet.job(rescripted)
        boto3.client("s3").put_object(Bucket=script.bucket, Key=script.script_location.split("/", 3)[3],
                                      Body=script.script.text.encode() + b"\n# edited\n")
        materialize(instance, DEEP[1:2], partition_key=top[2])  # job_script alone reads the new script
        refresh(instance)
        assert top_candidates(url) == top

        changed = evaluate(instance, unchanged.cursor, config)
        assert requested(instance, changed) == set(top[:3])  # top[3] did not change
        with engine_for(url).connect() as conn:
            plan, _ = deep_analysis_plan(conn, read_cursor(unchanged.cursor)[1])
        assert plan == dict(zip(top, ("new runs", "configuration changed", "script changed"), strict=False))


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # the queries ran on both above
def test_opt_in_and_opt_out_tags_are_honoured(fleet_env):
    sim, url, config = fleet_env
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
        top = top_candidates(url)
        assert len(top) == TOP_K
        lowest = top_candidates(url, chosen=False)[-1]  # a candidate no lane chose
        glue = boto3.client("glue")
        for key, value in ((lowest, "true"), (top[0], "False")):
            glue.tag_resource(ResourceArn=f"arn:aws:glue:us-east-1:{sim.fleet.account_id}:job/"
                                          f"{decode_partition_key(key).name}", TagsToAdd={OPT_TAG: value})
        materialize(instance, ["glue_jobs"])
        materialize(instance, ["deep_analysis_candidates"])

        result = evaluate(instance, None, config)
        chosen_now = top_candidates(url)
        assert top[0] not in chosen_now and lowest not in chosen_now and len(chosen_now) == TOP_K
        assert requested(instance, result) == set(chosen_now) | {lowest}
        assert top[0] not in requested(instance, result)
