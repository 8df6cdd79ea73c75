"""The hourly health checks: each stage's freshness against `freshness:`, and InventoryAgeHours and
LastRunSucceeded in (simulated) CloudWatch, 0 once a run failed."""

from datetime import UTC, datetime, timedelta

import boto3
import dagster as dg
import pytest

from glue_inventory.definitions import defs
from glue_inventory.orchestration.checks import STAGES
from glue_inventory.pipeline import run_pipeline
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory_tests.sim_fixtures import platform_config, point_pipeline_at

NAMESPACE = "GlueInventoryHealth"
ACCOUNT = "540987654321"


def _check(instance: dg.DagsterInstance) -> dict[str, bool]:
    job = defs.resolve_job_def(defs.resolve_schedule_def("stage_freshness_schedule").job_name)
    result = job.execute_in_process(instance=instance)
    return {evaluation.asset_key.to_user_string(): evaluation.passed
            for evaluation in result.get_asset_check_evaluations()}


def _latest(cloudwatch, name: str) -> float:
    now = datetime.now(UTC)
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "q", "ReturnData": True, "MetricStat": {"Stat": "Minimum", "Period": 60, "Metric": {
            "Namespace": NAMESPACE, "MetricName": name, "Dimensions": []}}}],
        StartTime=now - timedelta(hours=1), EndTime=now + timedelta(minutes=5), ScanBy="TimestampDescending")
    values = answer["MetricDataResults"][0]["Values"]
    assert values, f"no datapoint of {name}"
    return values[0]


@dg.asset
def broken_asset() -> None:
    raise RuntimeError("a step that fails")


@pytest.fixture
def health_env(tmp_path, monkeypatch, sqlite_url):
    fleet = build_fleet(12, 4, datetime.now(UTC), account_id=ACCOUNT)
    config = platform_config(tmp_path / "config.yaml", ACCOUNT, ["us-east-1"],
                             f"metrics:\n  cloudwatch_namespace: {NAMESPACE}\n"
                             "freshness:\n  job_preliminary_metrics: 0.0000001\n")
    with start_simulator(fleet) as sim, dg.DagsterInstance.ephemeral() as instance:
        point_pipeline_at(monkeypatch, sim, sqlite_url, tmp_path / "reports", config)
        yield instance, boto3.Session().client("cloudwatch")


def test_stages_are_checked_against_their_freshness_and_health_is_published(health_env):
    instance, cloudwatch = health_env
    assert _check(instance) == dict.fromkeys(STAGES, False)  # nothing materialized yet

    run_pipeline(instance, log=lambda _: None, deep_jobs=1)
    checked = _check(instance)
    assert checked.pop("job_preliminary_metrics") is False  # its limit: a third of a millisecond
    assert checked == dict.fromkeys(set(STAGES) - {"job_preliminary_metrics"}, True)
    assert 0 <= _latest(cloudwatch, "InventoryAgeHours") < 0.5
    assert _latest(cloudwatch, "LastRunSucceeded") == 1.0

    assert not dg.materialize([broken_asset], instance=instance, raise_on_error=False).success
    _check(instance)
    assert _latest(cloudwatch, "LastRunSucceeded") == 0.0
