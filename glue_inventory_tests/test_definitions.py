"""The code location loads and every asset, check, job, sensor and schedule resolves."""

import subprocess
import sys

import dagster as dg

from glue_inventory.definitions import defs

CONTRACT_ASSETS = {
    "glue_jobs": (False, "inventory"),
    "job_preliminary_metrics": (True, "inventory"),
    "deep_analysis_candidates": (False, "inventory"),
    "glue_billed_costs": (False, "inventory"),
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
    for name in ("glue_jobs", "job_preliminary_metrics", "glue_billed_costs", "job_deep_analysis"):
        assert graph.get(dg.AssetKey(name)).pools == {"aws_api"}


def test_the_bill_has_a_schedule_only_when_billing_is_configured(tmp_path):
    from glue_inventory.config import load_settings
    from glue_inventory.orchestration.automation import build_schedules

    path = tmp_path / "config.yaml"
    path.write_text("billing:\n  cur_uri: s3://cur-bucket/cur/\n")
    names = {schedule.name for schedule in build_schedules(load_settings(path))}
    assert "billing_refresh_schedule" in names
    path.write_text("max_workers: 4\n")
    assert "billing_refresh_schedule" not in {schedule.name for schedule in build_schedules(load_settings(path))}


# What only the deep analysis, the reports or the AI review use: every `dagster` command imports the code
# location, and each of these would be paid by the inventory's commands too (issue 27: start-up time).
ONLY_WHERE_NEEDED = ("openai", "pylint", "bandit", "pandas", "pyarrow", "s3fs", "jinja2", "numpy", "pygal",
                     "detect_secrets", "requests")


def test_the_code_location_imports_nothing_only_the_analysis_or_reports_use_and_prints_nothing():
    code = ("import sys, glue_inventory.definitions; "
            f"print(' '.join(sorted(m for m in {ONLY_WHERE_NEEDED!r} if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert done.stdout.split() == []
    # Every command's output starts with what loading prints: a library's warning there (Dagster's beta
    # parameters) would open each one-line error and the demo's stages.
    assert done.stderr == ""
