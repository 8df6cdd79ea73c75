"""The code location loads and every asset, check, job, sensor and schedule resolves."""

import dagster as dg

from glue_inventory.definitions import defs

CONTRACT_ASSETS = {
    "glue_jobs": (False, "inventory"),
    "job_preliminary_metrics": (True, "inventory"),
    "deep_analysis_candidates": (False, "inventory"),
}


def test_every_definition_resolves():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).group_name, f"{key} has no group"
    for job in defs.jobs or []:
        defs.resolve_job_def(job.name)
    for sensor in defs.sensors or []:
        defs.resolve_sensor_def(sensor.name)
    for schedule in defs.schedules or []:
        defs.resolve_schedule_def(schedule.name)
    assert defs.resolve_implicit_global_asset_job_def() is not None
    assert graph.asset_check_keys


def test_contract_assets_partitioning_and_groups():
    graph = defs.resolve_asset_graph()
    for name, (partitioned, group) in CONTRACT_ASSETS.items():
        node = graph.get(dg.AssetKey(name))
        assert node.group_name == group
        if partitioned:
            assert isinstance(node.partitions_def, dg.DynamicPartitionsDefinition)
            assert node.partitions_def.name == "glue_jobs"
        else:
            assert node.partitions_def is None


def test_every_aws_asset_is_in_the_aws_api_pool():
    graph = defs.resolve_asset_graph()
    for name in ("glue_jobs", "job_preliminary_metrics"):
        assert graph.get(dg.AssetKey(name)).pools == {"aws_api"}
