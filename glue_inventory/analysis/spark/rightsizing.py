"""Right-sizing from event logs: the fewest workers whose replayed wall time is at most `max_slowdown` longer
than the current count's (replay.py), in the shape of `analysis.rightsizing.recommend_capacity`, and its
comparison with the CloudWatch right-sizing when both exist.

The saving counts the slower run: DPU-hours scale with workers × time, so it is the monthly cost times
1 − (recommended DPU × predicted time) ÷ (current DPU × current predicted time).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from glue_inventory.analysis.cost.dpu_estimate import DPU_PER_WORKER
from glue_inventory.analysis.cost.rightsizing import STANDARD, workers_for
from glue_inventory.analysis.evidence import MEASURED_STATUSES
from glue_inventory.analysis.spark.replay import fewest_executors
from glue_inventory.analysis.types import JobSpec

EVENT_LOG = "event_log"
CLOUDWATCH = "cloudwatch"


def _capacity(worker_type: str, workers: int) -> dict[str, Any]:
    return {"worker_type": worker_type, "number_of_workers": workers, "max_capacity": None,
            "dpu": workers * DPU_PER_WORKER[worker_type]}


def _run_choice(summary: Mapping[str, Any], max_slowdown: float) -> dict[str, Any] | None:
    predicted = summary.get("predictions") or []
    current = summary.get("executors") or 0
    best = fewest_executors(predicted, current, max_slowdown)
    baseline = next((p for p in predicted if p["executors"] == current), None)
    if best is None or baseline is None or not baseline["predicted_ms"]:
        return None
    return {"app_id": summary.get("app_id"), "executors": current, "recommended_executors": best["executors"],
            "predicted_ms": baseline["predicted_ms"], "recommended_predicted_ms": best["predicted_ms"],
            "wall_ms": summary.get("wall_ms")}


def event_log_rightsizing(job: JobSpec, summaries: Sequence[Mapping[str, Any]], *, monthly_cost: float,
                          max_slowdown: float) -> dict[str, Any] | None:
    """The right-sizing the runs' replays call for (the most demanding run decides), or None when no run's log
    can say (no worker type and count, or no prediction)."""
    if job.worker_type not in DPU_PER_WORKER or job.worker_type == STANDARD or not job.number_of_workers:
        return None
    choices = [c for s in summaries if (c := _run_choice(s, max_slowdown))]
    if not choices:
        return None
    decisive = max(choices, key=lambda c: (c["recommended_executors"] / c["executors"], c["app_id"] or ""))
    current = _capacity(job.worker_type, int(job.number_of_workers))
    # G and R workers run one executor each, as the run's own executors (the log's) did.
    workers = workers_for(job.worker_type, decisive["recommended_executors"])
    recommended = _capacity(job.worker_type, min(workers, current["number_of_workers"]))
    slowdown = decisive["recommended_predicted_ms"] / decisive["predicted_ms"] - 1
    auto_scaling = str(job.default_arguments.get("--enable-auto-scaling", "")).lower() == "true"
    status = "over_provisioned" if recommended["dpu"] < current["dpu"] else "right_sized"
    saving = 0.0
    if status == "over_provisioned" and not auto_scaling:
        used = recommended["dpu"] * decisive["recommended_predicted_ms"] / (current["dpu"] * decisive["predicted_ms"])
        saving = round(max(monthly_cost * (1 - used), 0.0), 2)
    if status == "right_sized":
        recommended = dict(current)
    return {
        "status": status, "source": EVENT_LOG, "findings": [], "current": current, "recommended": recommended,
        "monthly_cost_usd": monthly_cost, "estimated_monthly_savings_usd": saving,
        "estimated_monthly_increase_usd": 0.0, "suggest_auto_scaling": False,
        "evidence": {"runs_with_event_logs": len(choices), "executors_in_log": decisive["executors"],
                     "recommended_executors": decisive["recommended_executors"],
                     "predicted_s_now": round(decisive["predicted_ms"] / 1000, 1),
                     "predicted_s_recommended": round(decisive["recommended_predicted_ms"] / 1000, 1),
                     "predicted_slowdown": round(slowdown, 4), "max_slowdown": max_slowdown,
                     "auto_scaling_enabled": auto_scaling, "decisive_app_id": decisive["app_id"]},
    }


def _workers(sizing: Mapping[str, Any] | None) -> int | None:
    return ((sizing or {}).get("recommended") or {}).get("number_of_workers")


def choose_rightsizing(event_log: Mapping[str, Any] | None,
                       cloudwatch: Mapping[str, Any] | None) -> tuple[Mapping[str, Any] | None, dict[str, Any]]:
    """(the right-sizing to use, how it was chosen): the event log's when there is one, CloudWatch's otherwise;
    when both measured, whether they agree (the same recommended worker count, ± 1) and why the event log wins."""
    measured_cw = bool(cloudwatch and cloudwatch.get("status") in MEASURED_STATUSES)
    if not event_log:
        why = "no usable event log: CloudWatch job metrics" if measured_cw else "no usable event log"
        return cloudwatch, {"source": CLOUDWATCH if cloudwatch else None, "why": why}
    if not measured_cw or cloudwatch is None:
        return event_log, {"source": EVENT_LOG, "why": "the event log (no CloudWatch job metrics to compare)"}
    log_workers, cw_workers = _workers(event_log), _workers(cloudwatch)
    agree = log_workers is not None and cw_workers is not None and abs(log_workers - cw_workers) <= 1
    why = (f"the event log and CloudWatch agree ({log_workers} and {cw_workers} workers)" if agree else
           f"the event log's replay says {log_workers} workers, CloudWatch's peak of needed executors "
           f"{cw_workers}: the event log is used — it replays every task's measured time into fewer slots, "
           "while the CloudWatch peak counts the executors Spark asked for at one moment (pending tasks, not "
           "the time they need)")
    return event_log, {"source": EVENT_LOG, "why": why, "agree": agree, "event_log_workers": log_workers,
                       "cloudwatch_workers": cw_workers,
                       "cloudwatch_saving_usd": cloudwatch.get("estimated_monthly_savings_usd")}
