"""fetch_run_metrics against moto's CloudWatch, with the requests captured from the real boto3 client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from glue_inventory.aws.cloudwatch import (
    GLUE_RUN_METRICS,
    MAX_QUERIES_PER_CALL,
    GlueMetric,
    fetch_run_metrics,
    metric_dimensions,
    period_for,
)

JOB = "nightly-orders"
NEEDED = "glue.driver.ExecutorAllocationManager.executors.numberMaxNeededExecutors"
ALL_EXECUTORS = "glue.driver.ExecutorAllocationManager.executors.numberAllExecutors"
HEAP = "glue.ALL.jvm.heap.usage"
ELAPSED = "glue.driver.aggregate.elapsedTime"
UTILIZATION = "glue.driver.workerUtilization"
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


@pytest.fixture
def cloudwatch() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="us-east-1")


@pytest.fixture
def sent(cloudwatch: Any) -> list[dict[str, Any]]:
    """The GetMetricData parameters of every call the client makes, as the API receives them."""
    calls: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        calls.append(params)

    cloudwatch.meta.events.register("provide-client-params.cloudwatch.GetMetricData", capture)
    return calls


def _put(client: Any, metric: GlueMetric, run_id: str, values: list[float], job: str = JOB) -> None:
    client.put_metric_data(Namespace="Glue", MetricData=[
        {"MetricName": metric.name, "Dimensions": metric_dimensions(job, run_id, metric),
         "Timestamp": NOW - timedelta(minutes=50 - index), "Value": value}
        for index, value in enumerate(values)
    ])


def _metric(name: str) -> GlueMetric:
    return next(metric for metric in GLUE_RUN_METRICS if metric.name == name)


def test_summaries_per_run_and_metric(cloudwatch: Any) -> None:
    _put(cloudwatch, _metric(NEEDED), "jr_a", [3, 7, 2])
    _put(cloudwatch, _metric(HEAP), "jr_a", [0.25, 0.5])
    _put(cloudwatch, _metric(ELAPSED), "jr_a", [30000, 30000, 15000])
    _put(cloudwatch, _metric(UTILIZATION), "jr_a", [0.2, 0.6])
    _put(cloudwatch, _metric(NEEDED), "jr_b", [12])
    _put(cloudwatch, _metric(NEEDED), "jr_a", [99], job="another-job")

    result = fetch_run_metrics(cloudwatch, JOB, ["jr_a", "jr_b", "jr_none"], NOW - timedelta(hours=1), NOW)

    assert set(result) == {"jr_a", "jr_b", "jr_none"}
    assert result["jr_a"][NEEDED] == {"max": 7.0, "avg": 4.0, "sum": 12.0, "datapoints": 3}
    assert result["jr_a"][HEAP]["max"] == 0.5
    assert result["jr_a"][ELAPSED]["sum"] == 75000.0
    assert result["jr_a"][UTILIZATION]["avg"] == pytest.approx(0.4)
    assert result["jr_b"] == {NEEDED: {"max": 12.0, "avg": 12.0, "sum": 12.0, "datapoints": 1}}
    assert result["jr_none"] == {}


def test_sends_the_exact_glue_dimension_sets(cloudwatch: Any, sent: list[dict[str, Any]]) -> None:
    fetch_run_metrics(cloudwatch, JOB, ["jr_a"], NOW - timedelta(hours=1), NOW)

    queries = {q["MetricStat"]["Metric"]["MetricName"]: q["MetricStat"] for q in sent[0]["MetricDataQueries"]}
    dimensions = {name: {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]}
                  for name, stat in queries.items()}
    run = {"JobName": JOB, "JobRunId": "jr_a"}
    assert dimensions[NEEDED] == {**run, "Type": "gauge"}
    assert dimensions[ALL_EXECUTORS] == {**run, "Type": "gauge"}
    assert dimensions[HEAP] == {**run, "Type": "gauge"}
    assert dimensions[ELAPSED] == {**run, "Type": "count"}
    assert dimensions["glue.driver.aggregate.bytesRead"] == {**run, "Type": "count"}
    assert dimensions[UTILIZATION] == {**run, "Type": "gauge", "ObservabilityGroup": "resource_utilization"}
    assert dimensions["glue.driver.skewness.job"] == {
        **run, "Type": "gauge", "ObservabilityGroup": "job_performance"}
    assert {stat["Metric"]["Namespace"] for stat in queries.values()} == {"Glue"}
    assert queries[NEEDED]["Stat"] == "Maximum" and queries[ELAPSED]["Stat"] == "Sum"
    assert {stat["Period"] for stat in queries.values()} == {60}


@pytest.mark.parametrize(("runs", "calls"), [(10, 1), (71, 1), (72, 2), (100, 2), (150, 3)])
def test_batches_at_most_500_queries_per_call(
        cloudwatch: Any, sent: list[dict[str, Any]], runs: int, calls: int) -> None:
    run_ids = [f"jr_{index:04d}" for index in range(runs)]

    result = fetch_run_metrics(cloudwatch, JOB, run_ids, NOW - timedelta(minutes=5), NOW)

    assert len(sent) == calls
    sizes = [len(call["MetricDataQueries"]) for call in sent]
    assert all(size <= MAX_QUERIES_PER_CALL for size in sizes)
    assert sum(sizes) == runs * len(GLUE_RUN_METRICS)
    for call in sent:
        assert len({q["Id"] for q in call["MetricDataQueries"]}) == len(call["MetricDataQueries"])
    assert list(result) == run_ids


def test_duplicate_run_ids_are_queried_once(cloudwatch: Any, sent: list[dict[str, Any]]) -> None:
    fetch_run_metrics(cloudwatch, JOB, ["jr_a", "jr_a"], NOW - timedelta(minutes=5), NOW)

    assert len(sent[0]["MetricDataQueries"]) == len(GLUE_RUN_METRICS)


def test_follows_next_token_and_joins_a_series_split_across_pages() -> None:
    # moto never paginates GetMetricData, so the AWS side of this one test is botocore's Stubber.
    client = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    needed = _metric(NEEDED)
    with Stubber(client) as stub:
        stub.add_response("get_metric_data", {
            "MetricDataResults": [{"Id": "q0", "Values": [4.0, 9.0], "StatusCode": "PartialData"}],
            "NextToken": "page-2"})
        stub.add_response("get_metric_data", {
            "MetricDataResults": [{"Id": "q0", "Values": [1.0], "StatusCode": "Complete"}]})
        result = fetch_run_metrics(client, JOB, ["jr_a"], NOW - timedelta(hours=1), NOW, metrics=[needed])
        stub.assert_no_pending_responses()

    assert result == {"jr_a": {NEEDED: {"max": 9.0, "avg": 14 / 3, "sum": 14.0, "datapoints": 3}}}


@pytest.mark.parametrize(("age_days", "period"), [(0, 60), (15, 60), (16, 300), (63, 300), (64, 3600)])
def test_period_follows_cloudwatch_retention(age_days: int, period: int) -> None:
    assert period_for(NOW - timedelta(days=age_days), NOW) == period
