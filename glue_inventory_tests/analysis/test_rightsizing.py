"""recommend_capacity on hand-computed cases (price 0.44 USD/DPU-hour, 100 DPU-hours a month = 44 USD)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from glue_inventory.analysis.cost.rightsizing import (
    HEAP_USAGE,
    NEEDED_EXECUTORS,
    executors_available,
    recommend_capacity,
    workers_for,
)
from glue_inventory.analysis.types import JobSpec
from glue_inventory.config import Pricing

METRICS_ON = {"--enable-metrics": "true"}


def _job(worker_type: str | None = "G.2X", workers: int | None = 20, *, version: str = "4.0",
         job_type: str = "glueetl", arguments: dict[str, str] | None = None, **extra: Any) -> JobSpec:
    return JobSpec(name="orders", job_type=job_type, worker_type=worker_type, number_of_workers=workers,
                   glue_version=version, default_arguments=METRICS_ON if arguments is None else arguments,
                   **extra)


def _runs(*runs: tuple[float, float, float | None]) -> dict[str, dict[str, dict[str, float]]]:
    """(peak needed executors, average needed, peak heap usage or None) per run."""
    metrics = {}
    for index, (peak, avg, heap) in enumerate(runs):
        run = {NEEDED_EXECUTORS: {"max": peak, "avg": avg, "sum": avg * 10, "datapoints": 10}}
        if heap is not None:
            run[HEAP_USAGE] = {"max": heap, "avg": heap / 2, "sum": heap * 5, "datapoints": 10}
        metrics[f"jr_{index}"] = run
    return metrics


def _recommend(job: JobSpec, metrics: dict, *, hours: float = 100.0, enable_metrics: bool = True) -> dict:
    return recommend_capacity(job, metrics, region="us-east-1", pricing=Pricing(),
                              monthly_dpu_hours=hours, enable_metrics=enable_metrics)


@pytest.mark.parametrize(
    ("job", "metrics", "status", "worker_type", "workers", "dpu", "saving", "increase"),
    [
        # 3 needed × 1.2 → 4 executors + driver = 5 × G.2X = 10 DPU of 40: 44 × (1 − 10/40).
        (_job(), _runs((3, 2, 0.6), (2, 1.5, 0.55)), "over_provisioned", "G.2X", 5, 10.0, 33.0, 0.0),
        # Heap 0.3 on G.2X → G.1X: 3 G.2X executors = 6 G.1X ones × 1.2 → 8 + driver = 9 DPU.
        (_job(), _runs((3, 2, 0.3)), "over_provisioned", "G.1X", 9, 9.0, 44 * (1 - 9 / 40), 0.0),
        # Heap 0.95 on G.1X → G.2X: 9 G.1X = 4.5 G.2X × 1.2 → 6 + driver = 7 × 2 = 14 DPU of 10.
        (_job("G.1X", 10), _runs((9, 6, 0.95)), "needs_more_capacity", "G.2X", 7, 14.0, 0.0, 44 * 0.4),
        # Already tight: 9 needed of 9 available; headroom alone never asks for more.
        (_job("G.1X", 10), _runs((9, 7, 0.7)), "right_sized", "G.1X", 10, 10.0, 0.0, 0.0),
        # Starved: 17 needed, 9 available → 21 executors + driver.
        (_job("G.1X", 10), _runs((17, 12, 0.7)), "needs_more_capacity", "G.1X", 22, 22.0, 0.0, 44 * 1.2),
        # Heap low on G.1X: nothing smaller; no heap metric at all: type kept.
        (_job("G.1X", 10), _runs((3, 2, 0.2)), "over_provisioned", "G.1X", 5, 5.0, 22.0, 0.0),
        (_job("G.4X", 10), _runs((3, 2, None)), "over_provisioned", "G.4X", 5, 20.0, 22.0, 0.0),
        # Idle executors: never fewer than 2 workers.
        (_job("G.1X", 5), _runs((0, 0, 0.6)), "over_provisioned", "G.1X", 2, 2.0, 44 * 0.6, 0.0),
    ],
    ids=["over-provisioned", "heap-low-smaller-type", "heap-high-larger-type", "tight", "starved",
         "g1x-floor", "no-heap-metric", "min-workers"],
)
def test_recommendation(job: JobSpec, metrics: dict, status: str, worker_type: str, workers: int,
                        dpu: float, saving: float, increase: float) -> None:
    result = _recommend(job, metrics)

    assert result["status"] == status
    assert result["recommended"]["worker_type"] == worker_type
    assert result["recommended"]["number_of_workers"] == workers
    assert result["recommended"]["dpu"] == dpu
    dpu_per_worker = {"G.1X": 1, "G.2X": 2, "G.4X": 4}[job.worker_type]
    assert result["current"]["dpu"] == job.number_of_workers * dpu_per_worker
    assert result["estimated_monthly_savings_usd"] == pytest.approx(saving)
    assert result["estimated_monthly_increase_usd"] == pytest.approx(increase)
    assert result["estimated_monthly_savings_usd"] >= 0 and result["estimated_monthly_increase_usd"] >= 0
    assert result["monthly_cost_usd"] == pytest.approx(44.0)
    json.dumps(result)


def test_evidence_holds_the_numbers_used() -> None:
    evidence = _recommend(_job(), _runs((3, 2, 0.6), (2, 1.5, 0.55)))["evidence"]

    assert evidence["peak_needed_executors"] == 3
    assert evidence["available_executors"] == 19
    assert evidence["peak_heap_usage"] == 0.6
    assert evidence["target_executors"] == 4
    assert evidence["headroom"] == 0.2
    assert evidence["runs_with_metrics"] == 2
    assert evidence["monthly_dpu_hours"] == 100.0 and evidence["price_per_dpu_hour"] == 0.44


def test_no_enable_metrics_and_no_metrics_is_a_finding_without_a_guess() -> None:
    result = _recommend(_job(arguments={}), {"jr_0": {}}, enable_metrics=False)

    assert result["status"] == "metrics_disabled"
    assert result["recommended"] is None
    assert result["estimated_monthly_savings_usd"] == 0.0
    assert result["findings"] == [{"rule_id": "metrics-disabled", "severity": "medium", "line": None,
                                   "message": "enable --enable-metrics to right-size; no guess made",
                                   "source": "rightsizing"}]


@pytest.mark.parametrize(("arguments", "enable_metrics"), [(METRICS_ON, False), ({}, True)])
def test_metrics_enabled_but_no_datapoints(arguments: dict[str, str], enable_metrics: bool) -> None:
    result = _recommend(_job(arguments=arguments), {}, enable_metrics=enable_metrics)

    assert result["status"] == "insufficient_data"
    assert [finding["rule_id"] for finding in result["findings"]] == ["metrics-missing"]
    assert result["recommended"] is None


@pytest.mark.parametrize("job", [
    _job(None, None, job_type="pythonshell", max_capacity=0.0625),
    _job("Z.2X", 5, job_type="glueray"),
    _job("G.1X", None),
])
def test_not_applicable(job: JobSpec) -> None:
    result = _recommend(job, _runs((3, 2, 0.6)))

    assert result["status"] == "not_applicable"
    assert result["recommended"] is None


def test_legacy_max_capacity_job_is_sized_in_dpu() -> None:
    # Glue 1.0 with MaxCapacity 100: 2 × 99 − 1 = 197 executors; 107 × 1.2 → 129 → 66 DPU.
    result = _recommend(_job(None, None, version="1.0", max_capacity=100.0), _runs((107, 60, 0.7)))

    assert result["status"] == "over_provisioned"
    assert result["current"] == {"worker_type": None, "number_of_workers": None, "max_capacity": 100.0,
                                 "dpu": 100.0}
    assert result["recommended"]["max_capacity"] == 66.0
    assert result["estimated_monthly_savings_usd"] == pytest.approx(44 * 0.34)


@pytest.mark.parametrize(("worker_type", "workers", "executors"), [
    ("Standard", 10, 17), ("Standard", 55, 107), ("G.1X", 10, 9), ("G.2X", 2, 1)])
def test_executor_arithmetic_matches_the_glue_capacity_guide(worker_type: str, workers: int,
                                                             executors: int) -> None:
    # "Monitoring for DPU capacity planning": 10 DPUs → 17 executors; 107 needed → 55 DPUs.
    assert executors_available(worker_type, workers) == executors
    assert workers_for(worker_type, executors) == workers


def test_flex_price_is_used_for_flex_jobs() -> None:
    result = _recommend(_job(execution_class="FLEX"), _runs((3, 2, 0.6)))

    assert result["monthly_cost_usd"] == pytest.approx(29.0)
    assert result["estimated_monthly_savings_usd"] == pytest.approx(29.0 * 0.75)


@pytest.mark.parametrize(("version", "arguments", "suggest"), [
    ("4.0", METRICS_ON, True),
    ("3.0", METRICS_ON, True),
    ("2.0", METRICS_ON, False),
    ("4.0", {**METRICS_ON, "--enable-auto-scaling": "true"}, False),
])
def test_auto_scaling_suggested_when_demand_swings(version: str, arguments: dict[str, str],
                                                   suggest: bool) -> None:
    # Within-run average ÷ peak: (3/10 + 2/4) / 2 = 0.4, below one half.
    result = _recommend(_job("G.1X", 20, version=version, arguments=arguments),
                        _runs((10, 3, 0.6), (4, 2, 0.6)))

    assert result["suggest_auto_scaling"] is suggest
    assert ("enable-auto-scaling" in [f["rule_id"] for f in result["findings"]]) is suggest
    assert result["evidence"]["needed_executors_avg_to_peak"] == pytest.approx(0.4)
    assert result["evidence"]["run_peak_min_to_max"] == pytest.approx(0.4)


def test_steady_demand_gets_no_auto_scaling_suggestion() -> None:
    result = _recommend(_job(), _runs((3, 2.5, 0.6), (3, 2.8, 0.6)))

    assert result["suggest_auto_scaling"] is False


def test_auto_scaling_job_saves_nothing_by_lowering_the_ceiling() -> None:
    job = _job(arguments={**METRICS_ON, "--enable-auto-scaling": "true"})

    result = _recommend(job, _runs((3, 2, 0.6)))

    assert result["status"] == "over_provisioned"
    assert result["estimated_monthly_savings_usd"] == 0.0
    assert "auto-scaling-ceiling" in [finding["rule_id"] for finding in result["findings"]]
