"""Choosing jobs for deep analysis, and `deep_analysis_candidate_sensor` against the simulator and a real database."""

import dataclasses
from datetime import UTC, datetime, timedelta

import boto3
import dagster as dg
import pytest
import sqlalchemy as sa

from glue_inventory.analysis.deep_selection import OPT_TAG, DeepInputs, change_reason, chosen, opt_in
from glue_inventory.keys import decode_partition_key
from glue_inventory.orchestration.assets import DEEP_ASSET_KEYS
from glue_inventory.orchestration.automation.deep import deep_analysis_candidate_sensor, read_cursor
from glue_inventory.orchestration.automation.runs import RANGE_END, RANGE_START, STAGE_TAG, partition_ranges
from glue_inventory.orchestration.resources import GlueInventoryConfig, InventoryDatabase
from glue_inventory.pipeline import materialize, run_pipeline
from glue_inventory.services.deep_selection import deep_analysis_plan
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import data_jobs, deep_analysis_candidates

NOW = datetime(2026, 3, 1, tzinfo=UTC)
TOP_K = 4
DEEP = [key.to_user_string() for key in DEEP_ASSET_KEYS]


def job(key: str, score: float | None = None, tag: bool | None = None, **fields) -> DeepInputs:
    return DeepInputs(key=key, data_job_id=hash(key) % 1000, score=score, opt_in=tag, **fields)


@pytest.mark.parametrize(("tags", "expected"), [
    ({OPT_TAG: "true"}, True), ({OPT_TAG: "TRUE"}, True), ({"Glue-Inventory:Deep-Analysis": "false"}, False),
    ({OPT_TAG: "maybe"}, None), ({OPT_TAG: ""}, None), ({}, None), (None, None),
])
def test_opt_in_tag(tags, expected):
    assert opt_in(tags) is expected


@pytest.mark.parametrize(("jobs", "top_k", "expected"), [
    ([job("a", 5), job("b", 9), job("c", 7)], 2, ["b", "c"]),
    ([job("b", 5), job("a", 5)], 1, ["a"]),  # ties by key
    ([job("a", 5), job("b", 9, tag=False), job("c", 1)], 2, ["a", "c"]),  # opted out: never, the next one moves up
    ([job("a", 5), job("z"), job("y", tag=True), job("c", 1, tag=True)], 1, ["a", "c", "y"]),  # opted in: always
    ([job("a", 5, tag=True)], 1, ["a"]),  # opted in and in the top K: once
    ([job("a", 5), job("b")], 0, []),
])
def test_chosen_is_top_k_plus_opted_in(jobs, top_k, expected):
    assert [j.key for j in chosen(jobs, top_k)] == expected


ANALYSED = job("k", 1, config="c1", runs_stored_at=NOW - timedelta(days=2), script_sha="s1",
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
    """A 12-job simulated fleet of its own (this test changes it), the database, top K = 4."""
    config = tmp_path / "config.yaml"
    config.write_text(f"deep_analysis: {{top_k: {TOP_K}}}\n")
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


def top_candidates(url: str, limit: int = TOP_K, skip: frozenset[str] = frozenset()) -> list[str]:
    query = (sa.select(data_jobs.c.partition_key)
             .join(deep_analysis_candidates, deep_analysis_candidates.c.data_job_id == data_jobs.c.id)
             .where(deep_analysis_candidates.c.is_current)
             .order_by(deep_analysis_candidates.c.score.desc(), data_jobs.c.partition_key))
    with engine_for(url).connect() as conn:
        return [key for key in conn.execute(query).scalars() if key not in skip][:limit]


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

        # The analyses rescored their jobs from evidence (measured savings, findings), so the next list's top
        # K may hold jobs never analysed: exactly those are requested, and then the plan is stable.
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
            plan, _ = deep_analysis_plan(conn, TOP_K, read_cursor(unchanged.cursor)[1])
        assert plan == dict(zip(top, ("new runs", "configuration changed", "script changed"), strict=False))


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # the queries ran on both above
def test_opt_in_and_opt_out_tags_are_honoured(fleet_env):
    sim, url, config = fleet_env
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
        top = top_candidates(url)
        lowest = top_candidates(url, limit=100)[-1]  # a candidate far below the top K
        assert lowest not in top
        glue = boto3.client("glue")
        for key, value in ((lowest, "true"), (top[0], "False")):
            glue.tag_resource(ResourceArn=f"arn:aws:glue:us-east-1:{sim.fleet.account_id}:job/"
                                          f"{decode_partition_key(key).name}", TagsToAdd={OPT_TAG: value})
        materialize(instance, ["glue_jobs"])
        materialize(instance, ["deep_analysis_candidates"])

        result = evaluate(instance, None, config)
        assert requested(instance, result) == set(top_candidates(url, limit=TOP_K, skip=frozenset({top[0]}))) | {
            lowest}
        assert top[0] not in requested(instance, result)
