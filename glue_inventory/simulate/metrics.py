"""CloudWatch `Glue` namespace data for recent Spark runs, shaped like Glue job metrics."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from glue_inventory.simulate.catalog import WINDOW_DAYS
from glue_inventory.simulate.fleet import SimJob
from glue_inventory.simulate.history import capacity

NAMESPACE = "Glue"
RUNS_WITH_METRICS = 3
# Glue emits job metrics every 30 s; a handful of points per run keeps moto's linear scans fast.
POINTS_PER_RUN = 4


def _dims(job: str, run_id: str, kind: str, group: str | None = None) -> list[dict[str, str]]:
    dims = [{"Name": "JobName", "Value": job}, {"Name": "JobRunId", "Value": run_id},
            {"Name": "Type", "Value": kind}]
    if group:
        dims.append({"Name": "ObservabilityGroup", "Value": group})
    return dims


def _executors(cfg) -> int:
    """Executors Glue starts for a run's capacity (AWS Glue developer guide, "Monitoring for DPU capacity
    planning"): two per Standard DPU, less the reserved DPU and the driver; one per G or R worker, less the
    driver's."""
    if cfg.worker_type in (None, "Standard"):
        return max(1, int(2 * (capacity(cfg) - 1)) - 1)
    return max(1, (cfg.number_of_workers or 1) - 1)


def metric_data(job: SimJob, now: datetime, rng: random.Random) -> list[dict[str, Any]]:
    """Datapoints for the job's last few finished runs in the cost window (none without --enable-metrics)."""
    if "--enable-metrics" not in job.default_arguments:
        return []
    window_start = now.timestamp() - WINDOW_DAYS * 86400
    recent = [run for run in job.runs if run.state != "RUNNING" and run.started >= window_start
              and run.execution_time > 0]
    data: list[dict[str, Any]] = []
    for run in sorted(recent, key=lambda r: r.started)[-RUNS_WITH_METRICS:]:
        allocated = _executors(run.config)
        profile = job.profile
        share = (rng.uniform(0.05, 0.2) if profile.over_provisioned else rng.uniform(1.3, 1.6) if profile.starved
                 else rng.uniform(0.7, 1.0))
        needed = max(1, round(allocated * share))
        heap = rng.uniform(0.1, 0.25) if profile.over_provisioned else rng.uniform(0.45, 0.85)
        step = run.execution_time / POINTS_PER_RUN
        bytes_read = 0.0
        for point in range(1, POINTS_PER_RUN + 1):
            # moto compares CloudWatch timestamps as naive UTC.
            ts = datetime.fromtimestamp(run.started + point * step, UTC).replace(tzinfo=None)
            elapsed_ms = point * step * 1000
            bytes_read += rng.uniform(2e8, 9e8) * allocated / 10
            gauges = {
                "glue.driver.ExecutorAllocationManager.executors.numberAllExecutors": (allocated, "Count"),
                "glue.driver.ExecutorAllocationManager.executors.numberMaxNeededExecutors": (needed, "Count"),
                "glue.ALL.jvm.heap.usage": (round(heap * rng.uniform(0.9, 1.1), 3), "None"),
                "glue.driver.jvm.heap.usage": (round(rng.uniform(0.2, 0.5), 3), "None"),
            }
            counts = {"glue.driver.aggregate.elapsedTime": (elapsed_ms, "Milliseconds"),
                      "glue.driver.aggregate.bytesRead": (bytes_read, "Bytes")}
            for run_id in (run.job_run_id, "ALL"):
                for name, (value, unit) in gauges.items():
                    data.append({"MetricName": name, "Dimensions": _dims(job.name, run_id, "gauge"),
                                 "Timestamp": ts, "Value": float(value), "Unit": unit})
                for name, (value, unit) in counts.items():
                    data.append({"MetricName": name, "Dimensions": _dims(job.name, run_id, "count"),
                                 "Timestamp": ts, "Value": float(value), "Unit": unit})
            if "--enable-observability-metrics" not in job.default_arguments:
                continue
            # Observability metrics (Glue 4.0+) carry a fourth dimension, ObservabilityGroup.
            data.append({"MetricName": "glue.driver.workerUtilization",
                         "Dimensions": _dims(job.name, run.job_run_id, "gauge", "resource_utilization"),
                         "Timestamp": ts, "Value": round(needed / allocated, 3), "Unit": "None"})
    return data
