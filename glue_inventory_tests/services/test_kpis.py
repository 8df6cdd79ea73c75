"""KPIs: after an inventory they land in the simulated CloudWatch under the documented names and dimensions,
with the numbers of executive.json; without `metrics:` nothing is published."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import boto3
import dagster as dg
import pytest

from glue_inventory.analysis.kpis import HEALTH_KPIS, UNITS
from glue_inventory.config import ToolCostPrices
from glue_inventory.pipeline import run_pipeline
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory_tests.aws_calls import recording
from glue_inventory_tests.sim_fixtures import platform_config, point_pipeline_at

NAMESPACE = "GlueInventoryTest"
ACCOUNT = "650987654321"


@pytest.fixture
def published(tmp_path, monkeypatch, sqlite_url):
    fleet = build_fleet(30, 5, datetime.now(UTC), account_id=ACCOUNT)
    config = platform_config(tmp_path / "config.yaml", ACCOUNT, fleet.regions,
                             f"metrics:\n  cloudwatch_namespace: {NAMESPACE}\n  dimensions: [account, account_team]\n")
    with start_simulator(fleet) as sim:
        point_pipeline_at(monkeypatch, sim, sqlite_url, tmp_path / "reports", config)
        with recording() as calls, dg.DagsterInstance.ephemeral() as instance:
            run_pipeline(instance, log=lambda _: None)
        numbers = json.loads((tmp_path / "reports" / "executive.json").read_text())
        yield boto3.Session().client("cloudwatch"), numbers, calls


def value(cloudwatch, name: str, dimensions: dict[str, str] | None = None, stat: str = "Maximum") -> float:
    now = datetime.now(UTC)
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "q", "ReturnData": True, "MetricStat": {"Stat": stat, "Period": 3600, "Metric": {
            "Namespace": NAMESPACE, "MetricName": name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in (dimensions or {}).items()]}}}],
        StartTime=now - timedelta(hours=1), EndTime=now + timedelta(minutes=5))
    values = answer["MetricDataResults"][0]["Values"]
    assert values, f"no datapoint of {name} {dimensions}"
    return values[0]


def test_kpis_land_in_cloudwatch_with_the_reports_numbers(published):
    cloudwatch, numbers, calls = published
    metrics = [m for page in cloudwatch.get_paginator("list_metrics").paginate(Namespace=NAMESPACE)
               for m in page["Metrics"]]
    names = {m["MetricName"] for m in metrics}
    # No bill loaded: left out, not 0; the health KPIs come from the hourly freshness checks.
    assert names == set(UNITS) - {"BilledMonthlySpendUSD", *HEALTH_KPIS}
    dimension_sets = {tuple(sorted(d["Name"] for d in m["Dimensions"])) for m in metrics}
    assert {(), ("Account",), ("Account", "Team")} <= dimension_sets
    assert {("Priority",), ("Account", "Priority"), ("Account", "Priority", "Team")} <= dimension_sets

    # moto matches a query without dimensions against every series of the name: the fleet total is their maximum.
    assert value(cloudwatch, "LiveJobs") == numbers["jobs"]["live"]
    assert value(cloudwatch, "EstimatedMonthlySpendUSD") == pytest.approx(numbers["spend"]["estimated_monthly_usd"],
                                                                          abs=0.01)
    assert value(cloudwatch, "SavingsIdentifiedMonthlyUSD") == pytest.approx(
        numbers["savings"]["total_monthly_usd"], abs=0.01)
    assert value(cloudwatch, "SavingsRealizedMonthlyUSD") == 0.0
    assert value(cloudwatch, "FailedPlatforms") == 0.0
    assert value(cloudwatch, "LiveJobs", {"Account": ACCOUNT}) == numbers["jobs"]["live"]
    teams = {d["Value"] for m in metrics if m["MetricName"] == "LiveJobs" for d in m["Dimensions"]
             if d["Name"] == "Team"}
    per_team = sum(value(cloudwatch, "LiveJobs", {"Account": ACCOUNT, "Team": team}) for team in teams)
    assert per_team == numbers["jobs"]["live"]
    for priority, count in numbers["priorities"].items():
        if priority in ("critical", "high", "medium", "low"):
            assert value(cloudwatch, "Candidates", {"Priority": priority}) == count
    put = [c for c in calls if c.action == "cloudwatch:PutMetricData"]
    assert put and all(c.caller.startswith("glue_inventory/aws/cloudwatch.py:publish_metric_data") for c in put)


def test_the_inventory_states_what_it_cost_in_aws_charges(published, tmp_path):
    cloudwatch, numbers, calls = published
    tool = numbers["tool_cost"]
    metrics = [m for page in cloudwatch.get_paginator("list_metrics").paginate(Namespace=NAMESPACE)
               for m in page["Metrics"]]
    assert tool["custom_metrics"] == len(metrics) + len(HEALTH_KPIS)
    paid = Counter(c.action for c in calls if c.action.startswith(("ce:", "cloudwatch:PutMetricData")))
    assert tool["calls"]["putmetricdata_requests"] == paid["cloudwatch:PutMetricData"] == 1
    assert tool["calls"]["cost_explorer_requests"] == paid["ce:GetCostAndUsage"] >= 1
    assert tool["inventories_per_month"] == 30  # the default daily refresh
    prices = ToolCostPrices()
    requests = paid["ce:GetCostAndUsage"] * prices.cost_explorer_request + prices.cloudwatch_request
    kept_alive = (len(metrics) + len(HEALTH_KPIS)) * prices.custom_metric_month
    assert tool["monthly_usd"] == round(requests * 30 + kept_alive, 2)
    assert tool["inventory_usd"] == round(requests + kept_alive / 30, 4)
    summary = (tmp_path / "reports" / "executive_summary.md").read_text()
    assert f"This inventory cost **${tool['inventory_usd']:.4f}** in AWS charges" in summary
    assert f"about **${tool['monthly_usd']:,.2f} a month** at the configured schedule" in summary
