"""The pipeline's order read from the asset graph: the stages `run_pipeline` and the follow-up sensor share."""

import dagster as dg

from glue_inventory.definitions import defs
from glue_inventory.orchestration.automation.inventory import follow_ups
from glue_inventory.orchestration.automation.stages import pipeline_stages, stages

jobs = dg.DynamicPartitionsDefinition(name="jobs")


@dg.asset
def listing() -> None: ...


@dg.asset(deps=[listing], partitions_def=jobs)
def per_job() -> None: ...


@dg.asset(deps=[listing])
def bill() -> None: ...


@dg.asset(deps=[per_job, bill])
def shortlist() -> None: ...


@dg.asset(deps=[shortlist], partitions_def=jobs)
def fetched() -> None: ...


@dg.asset(deps=[fetched], partitions_def=jobs)
def reviewed() -> None: ...


@dg.asset(deps=[reviewed, shortlist])
def plans() -> None: ...


@dg.asset(deps=[plans, reviewed])
def report() -> None: ...


def names(stage) -> list[str]:
    return [key.to_user_string() for key in stage.keys]


def test_levels_of_one_kind_merge_and_a_mixed_level_splits():
    found = pipeline_stages([report, reviewed, plans, shortlist, per_job, fetched, bill, listing])
    assert [(names(stage), stage.partitioned) for stage in found] == [
        (["listing"], False), (["per_job"], True), (["bill"], False), (["shortlist"], False),
        (["fetched", "reviewed"], True), (["plans", "report"], False)]
    by_name = {names(stage)[0]: stage for stage in found}
    assert by_name["fetched"].chosen_jobs_only is False  # no asset here is the candidate list
    assert [names(stage) for stage in found if stage.follows_partitions] == [["shortlist"], ["plans", "report"]]
    assert by_name["plans"].inputs == {reviewed.key, shortlist.key}


def test_the_refresh_covers_every_asset_of_the_code_location_once_in_the_graphs_order():
    keys = [key for stage in stages() for key in stage.keys]
    assert sorted(keys) == sorted(defs.resolve_asset_graph().get_all_asset_keys())
    assert len(keys) == len(set(keys))
    graph = defs.resolve_asset_graph()
    position = {key: index for index, key in enumerate(keys)}
    for key in keys:
        assert all(position[parent] < position[key] for parent in graph.get(key).parent_keys), key
    deep = [stage for stage in stages() if stage.chosen_jobs_only]
    assert len(deep) == 1 and dg.AssetKey("job_deep_analysis") in deep[0].keys


def test_the_follow_up_sensor_runs_the_unpartitioned_stages_after_partitions():
    assert [names(stage) for stage in follow_ups()] == [["deep_analysis_candidates"],
                                                         ["remediation_plans", "executive_report"]]
