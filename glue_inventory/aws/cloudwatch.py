"""Per-run Glue job metrics from CloudWatch `GetMetricData`, summarised for right-sizing."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import fmean
from typing import Any, TypedDict

from botocore.config import Config

from glue_inventory.aws.clients import new_session

NAMESPACE = "Glue"

# CloudWatch API reference, GetMetricData: "You can include up to 500 MetricDataQuery structures".
MAX_QUERIES_PER_CALL = 500


@dataclass(frozen=True)
class GlueMetric:
    """A Glue job metric and the exact dimension set AWS publishes it under.

    CloudWatch matches dimension sets exactly, so a query missing `Type` or `ObservabilityGroup`
    returns nothing rather than an error.
    """

    name: str
    type: str  # value of the `Type` dimension: "gauge" or "count"
    stat: str
    observability_group: str | None = None


_EXECUTORS = "glue.driver.ExecutorAllocationManager.executors"

# Names, `Type` values and statistics: AWS Glue developer guide, "Monitoring AWS Glue using Amazon
# CloudWatch metrics" (dimensions JobName, JobRunId, Type). Gauges are read with Maximum so that
# `max` is the true peak; counts are deltas every 30 s, read with Sum.
# Observability metrics (Glue 4.0+, `--enable-observability-metrics`): "Monitoring with AWS Glue
# Observability metrics" adds the `ObservabilityGroup` dimension.
GLUE_RUN_METRICS: tuple[GlueMetric, ...] = (
    GlueMetric(f"{_EXECUTORS}.numberAllExecutors", "gauge", "Maximum"),
    GlueMetric(f"{_EXECUTORS}.numberMaxNeededExecutors", "gauge", "Maximum"),
    GlueMetric("glue.ALL.jvm.heap.usage", "gauge", "Maximum"),
    GlueMetric("glue.driver.aggregate.elapsedTime", "count", "Sum"),
    GlueMetric("glue.driver.aggregate.bytesRead", "count", "Sum"),
    GlueMetric("glue.driver.workerUtilization", "gauge", "Maximum", "resource_utilization"),
    GlueMetric("glue.driver.skewness.job", "gauge", "Maximum", "job_performance"),
)


class MetricSummary(TypedDict):
    """One metric over one run: plain JSON, stored as is and read by `analysis.rightsizing`.

    `max`/`avg` are over the per-period values (period maxima for gauges, period sums for counts);
    `sum` is the run total for count metrics.
    """

    max: float
    avg: float
    sum: float
    datapoints: int


def metric_dimensions(job_name: str, run_id: str, metric: GlueMetric) -> list[dict[str, str]]:
    """The exact dimension set Glue publishes `metric` under for one run."""
    dimensions = {"JobName": job_name, "JobRunId": run_id, "Type": metric.type}
    if metric.observability_group:
        dimensions["ObservabilityGroup"] = metric.observability_group
    return [{"Name": name, "Value": value} for name, value in sorted(dimensions.items())]


def period_for(start: datetime, now: datetime) -> int:
    """The finest period CloudWatch still answers for data starting at `start`.

    GetMetricData API reference: start 15–63 days ago needs a multiple of 300 s, older than 63 days
    a multiple of 3600 s, otherwise no datapoints come back (metrics retention).
    """
    age = now - start
    if age > timedelta(days=63):
        return 3600
    if age > timedelta(days=15):
        return 300
    return 60


def whole_window_period(start: datetime, end: datetime, now: datetime) -> int:
    """A period spanning the whole window (one datapoint per query, its statistic over all of it),
    rounded up to a multiple CloudWatch accepts for data that old."""
    base = period_for(start, now)
    return max(base, math.ceil((end - start).total_seconds() / base) * base)


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for offset in range(0, len(items), size):
        yield items[offset:offset + size]


def _summary(values: list[float]) -> MetricSummary:
    return MetricSummary(max=max(values), avg=fmean(values), sum=sum(values), datapoints=len(values))


def fetch_run_metrics(
    cloudwatch_client: Any,
    job_name: str,
    run_ids: list[str],
    start: datetime,
    end: datetime,
    *,
    metrics: Sequence[GlueMetric] = GLUE_RUN_METRICS,
    now: datetime | None = None,
    period: int | None = None,
) -> dict[str, dict[str, MetricSummary]]:
    """Summaries of `metrics` for each run of `job_name` between `start` and `end`.

    Every requested run id is a key; a metric with no datapoints (metrics disabled, observability
    off, data past retention) is absent from that run's dict rather than zero.
    """
    unique_runs = list(dict.fromkeys(run_ids))
    wanted = [(run_id, metric) for run_id in unique_runs for metric in metrics]
    period = period or period_for(start, now or datetime.now(UTC))
    values: dict[tuple[str, str], list[float]] = {}
    paginator = cloudwatch_client.get_paginator("get_metric_data")
    for batch in _batches(wanted, MAX_QUERIES_PER_CALL):
        by_id = {f"q{index}": key for index, key in enumerate(batch)}
        queries = [
            {
                "Id": query_id,
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": metric.name,
                        "Dimensions": metric_dimensions(job_name, run_id, metric),
                    },
                    "Period": period,
                    "Stat": metric.stat,
                },
                "ReturnData": True,
            }
            for query_id, (run_id, metric) in by_id.items()
        ]
        pages = paginator.paginate(MetricDataQueries=queries, StartTime=start, EndTime=end,
                                   ScanBy="TimestampAscending")
        for page in pages:
            # A long series is split across pages under the same Id: extend, never overwrite.
            for result in page.get("MetricDataResults", []):
                run_id, metric = by_id[result["Id"]]
                series = values.setdefault((run_id, metric.name), [])
                series.extend(float(value) for value in result.get("Values", []))
    summaries: dict[str, dict[str, MetricSummary]] = {run_id: {} for run_id in unique_runs}
    for (run_id, metric_name), series in values.items():
        if series:
            summaries[run_id][metric_name] = _summary(series)
    return summaries


# CloudWatch API reference, PutMetricData: at most 1,000 metrics per request.
MAX_DATUMS_PER_PUT = 1000
PUT_ATTEMPTS = 3


def publish_metric_data(namespace: str, datums: Sequence[dict[str, Any]], region: str | None = None) -> int:
    """PutMetricData with the tool's own credentials (the one CloudWatch write, see iam/README.md), in batches;
    returns the number of calls. `datums` are MetricData entries (MetricName, Dimensions, Value, Unit, Timestamp)."""
    # A session of its own: credentials are resolved now, not taken from a process-wide default session.
    client = new_session(region_name=region).client(
        "cloudwatch", config=Config(retries={"mode": "standard", "total_max_attempts": PUT_ATTEMPTS}))
    calls = 0
    for batch in _batches(datums, MAX_DATUMS_PER_PUT):
        client.put_metric_data(Namespace=namespace, MetricData=list(batch))
        calls += 1
    return calls
