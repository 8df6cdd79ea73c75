"""Right-sizing of a Spark job's workers from the CloudWatch metrics of its recent runs.

Input metrics are `aws.cloudwatch.fetch_run_metrics` output (or the same JSON read back from our
tables): run id → metric name → {"max", "avg", "datapoints", …}. Nothing is guessed: without executor
metrics there is a finding and no recommendation.

Savings assume the run time stays the same, which holds when the removed executors were idle (the
peak of needed executors says they were); an increase is reported as the same arithmetic upper bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from glue_inventory.analysis.cost.dpu_estimate import DPU_PER_WORKER, job_execution_class
from glue_inventory.analysis.findings import Finding, finding
from glue_inventory.analysis.status import version_tuple
from glue_inventory.analysis.types import SPARK_JOB_TYPES, JobSpec
from glue_inventory.config import Pricing

RunMetrics = Mapping[str, Mapping[str, Mapping[str, Any]]]

NEEDED_EXECUTORS = "glue.driver.ExecutorAllocationManager.executors.numberMaxNeededExecutors"
HEAP_USAGE = "glue.ALL.jvm.heap.usage"

STANDARD = "Standard"

# Our policy, not AWS's: 20 % above the observed peak, heap below 50 % means the worker is too big,
# above 90 % too small; needs that swing by half or more are what auto scaling is for.
HEADROOM = 0.2
LOW_HEAP = 0.5
HIGH_HEAP = 0.9
WIDE_VARIATION = 0.5
# A Spark job needs a driver and at least one executor: Glue rejects NumberOfWorkers below 2.
MIN_WORKERS = 2
# AWS Glue developer guide, "Using auto scaling for AWS Glue": Glue 3.0 and later, G and R worker types.
AUTO_SCALING_MIN_VERSION = (3, 0)

# One size down / up within a family; the smallest G.1X and R.1X have nothing below them.
_LADDERS = (
    ("G.1X", "G.2X", "G.4X", "G.8X", "G.12X", "G.16X"),
    ("R.1X", "R.2X", "R.4X", "R.8X"),
)


def _flag_set(arguments: Mapping[str, str], name: str) -> bool:
    return name in arguments and str(arguments[name]).strip().lower() not in {"false", "0", "no"}


def executors_available(worker_type: str, workers: int) -> int:
    """Executors Glue starts for `workers` workers of `worker_type`.

    AWS Glue developer guide, "Monitoring for DPU capacity planning": a Standard DPU runs two
    executors, one DPU is reserved and one executor is the driver (2 × (DPU − 1) − 1); G and R workers
    run one executor each and the driver takes one worker (workers − 1).
    """
    if worker_type == STANDARD:
        return max(2 * (workers - 1) - 1, 0)
    return max(workers - 1, 0)


def workers_for(worker_type: str, executors: int) -> int:
    """The fewest workers of `worker_type` that give `executors` executors, never below MIN_WORKERS."""
    if worker_type == STANDARD:
        workers = math.ceil((executors + 1) / 2) + 1
    else:
        workers = executors + 1
    return max(workers, MIN_WORKERS)


def _neighbour(worker_type: str, step: int) -> str:
    for ladder in _LADDERS:
        if worker_type in ladder:
            index = min(max(ladder.index(worker_type) + step, 0), len(ladder) - 1)
            return ladder[index]
    return worker_type


def _ceil(value: float) -> int:
    # 3 × 1.2 is 3.5999…96 and 5 × 1.2 may land a hair above 6: round away float noise first.
    return math.ceil(round(value, 6))


def _peaks(run_metrics: RunMetrics, metric: str) -> list[tuple[float, float]]:
    """(max, avg) of `metric` for every run that has datapoints of it."""
    return [
        (float(summary["max"]), float(summary["avg"]))
        for metrics in run_metrics.values()
        if (summary := metrics.get(metric)) and summary.get("datapoints")
    ]


def _capacity(worker_type: str, workers: int, legacy: bool) -> dict[str, Any]:
    dpu = workers * DPU_PER_WORKER[worker_type]
    if legacy:
        return {"worker_type": None, "number_of_workers": None, "max_capacity": dpu, "dpu": dpu}
    return {"worker_type": worker_type, "number_of_workers": workers, "max_capacity": None, "dpu": dpu}


def _finding(rule_id: str, severity: str, message: str) -> Finding:
    return finding(rule_id, severity, None, message, source="rightsizing")


def _varies_widely(needed: list[tuple[float, float]]) -> tuple[bool, dict[str, float | None]]:
    """Whether executor demand swings within runs or between runs, with the ratios that say so."""
    within = [avg / peak for peak, avg in needed if peak > 0]
    avg_to_peak = sum(within) / len(within) if within else None
    run_peaks = [peak for peak, _ in needed]
    min_to_max = min(run_peaks) / max(run_peaks) if len(run_peaks) > 1 and max(run_peaks) > 0 else None
    varies = (avg_to_peak is not None and avg_to_peak < WIDE_VARIATION) or (
        min_to_max is not None and min_to_max < WIDE_VARIATION)
    return varies, {"needed_executors_avg_to_peak": avg_to_peak, "run_peak_min_to_max": min_to_max}


def recommend_capacity(
    job: JobSpec,
    run_metrics: RunMetrics,
    *,
    region: str,
    pricing: Pricing,
    monthly_dpu_hours: float,
    enable_metrics: bool,
) -> dict[str, Any]:
    """Recommended worker type and count, with savings and the numbers behind them (JSON-able).

    `enable_metrics` says the analysed runs were started with `--enable-metrics` (a run's own
    Arguments can turn it on when DefaultArguments do not).
    """
    legacy = job.worker_type is None and bool(job.max_capacity)
    worker_type = STANDARD if legacy else job.worker_type
    price = pricing.per_dpu_hour(region, job_execution_class(job))
    monthly_cost = monthly_dpu_hours * price
    result: dict[str, Any] = {
        "status": "not_applicable",
        "findings": [],
        "current": None,
        "recommended": None,
        "monthly_cost_usd": monthly_cost,
        "estimated_monthly_savings_usd": 0.0,
        "estimated_monthly_increase_usd": 0.0,
        "suggest_auto_scaling": False,
        "evidence": {"monthly_dpu_hours": monthly_dpu_hours, "price_per_dpu_hour": price},
    }
    workers = int(job.max_capacity or 0) if legacy else int(job.number_of_workers or 0)
    if job.job_type not in SPARK_JOB_TYPES or worker_type not in DPU_PER_WORKER or workers < 1:
        result["findings"].append(_finding(
            "rightsizing-not-applicable", "info", "right-sizing covers Spark jobs with a known worker type and count "
            f"(job type {job.job_type!r}, worker type {job.worker_type!r})"))
        return result
    current = _capacity(worker_type, workers, legacy)
    result["current"] = current

    needed = _peaks(run_metrics, NEEDED_EXECUTORS)
    if not needed:
        if not (enable_metrics or "--enable-metrics" in job.default_arguments):
            result["status"] = "metrics_disabled"
            result["findings"].append(_finding(
                "metrics-disabled", "medium", "enable --enable-metrics to right-size; no guess made"))
        else:
            result["status"] = "insufficient_data"
            result["findings"].append(_finding(
                "metrics-missing", "low", "metrics are enabled but CloudWatch returned no executor "
                "datapoints for the analysed runs (past retention or too short); no guess made"))
        return result

    peak_needed = max(peak for peak, _ in needed)
    heaps = _peaks(run_metrics, HEAP_USAGE)
    peak_heap = max(peak for peak, _ in heaps) if heaps else None
    target_type = worker_type
    if peak_heap is not None and peak_heap > HIGH_HEAP:
        target_type = _neighbour(worker_type, +1)
    elif peak_heap is not None and peak_heap < LOW_HEAP and DPU_PER_WORKER[worker_type] >= 2:
        target_type = _neighbour(worker_type, -1)
    # Needed executors count task slots of the current executor size; cores scale with DPU per worker.
    needed_in_target = peak_needed * DPU_PER_WORKER[worker_type] / DPU_PER_WORKER[target_type]
    target_executors = _ceil(needed_in_target * (1 + HEADROOM))
    recommended = _capacity(target_type, workers_for(target_type, target_executors), legacy)
    available = executors_available(worker_type, workers)
    starved = peak_needed > available

    bigger_workers = DPU_PER_WORKER[target_type] > DPU_PER_WORKER[worker_type]
    if starved or (bigger_workers and recommended["dpu"] > current["dpu"]):
        result["status"] = "needs_more_capacity"
        result["estimated_monthly_increase_usd"] = max(
            monthly_cost * (recommended["dpu"] / current["dpu"] - 1), 0.0)
    elif recommended["dpu"] < current["dpu"]:
        result["status"] = "over_provisioned"
        result["estimated_monthly_savings_usd"] = monthly_cost * (1 - recommended["dpu"] / current["dpu"])
    else:
        result["status"] = "right_sized"
        recommended = dict(current)
    result["recommended"] = recommended

    auto_scaling = _flag_set(job.default_arguments, "--enable-auto-scaling")
    if auto_scaling and result["estimated_monthly_savings_usd"]:
        # Under auto scaling NumberOfWorkers is a ceiling and DPU-hours follow the workers in use.
        result["estimated_monthly_savings_usd"] = 0.0
        result["findings"].append(_finding(
            "auto-scaling-ceiling", "info", "auto scaling is on: NumberOfWorkers is only a ceiling, "
            "lowering it caps bursts but saves little"))
    varies, variation = _varies_widely(needed)
    version = version_tuple(job.glue_version)
    result["suggest_auto_scaling"] = (
        varies and not auto_scaling and not legacy
        and version is not None and version >= AUTO_SCALING_MIN_VERSION)
    if result["suggest_auto_scaling"]:
        result["findings"].append(_finding(
            "enable-auto-scaling", "low", "executor demand varies widely between or within runs: "
            "set --enable-auto-scaling true so Glue adds and removes workers as needed"))
    result["evidence"].update({
        "runs_with_metrics": len(needed),
        "peak_needed_executors": peak_needed,
        "available_executors": available,
        "peak_heap_usage": peak_heap,
        "headroom": HEADROOM,
        "target_executors": target_executors,
        "auto_scaling_enabled": auto_scaling,
        **variation,
    })
    return result
