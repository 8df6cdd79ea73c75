"""Report rows built from the stored inventory: one per job and one per candidate."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from glue_inventory.analysis.actions.plans import JOB_METRICS_ARGUMENT, SPARK_UI_ARGUMENT
from glue_inventory.analysis.candidates import Candidate
from glue_inventory.analysis.cost.savings import BASES, EXACT, MEASURED, RULE_OF_THUMB
from glue_inventory.analysis.tags import ownership

METRIC_FIELDS = (
    "runs_30d", "finished_runs_30d", "failed_runs_30d", "failure_rate_30d", "dpu_hours_30d",
    "cost_30d_usd", "monthly_projection_usd", "capacity_dpu", "eol_version", "missing_tags",
    "secret_arguments", "last_run_at", "last_run_state", "failed_cost_30d_usd",
    # The bill of the window (services/cost/bill.py): present when `billing:` is set.
    "billed_30d_usd", "billed_net_30d_usd", "billed_dpu_hours_30d", "estimate_billed_days_usd",
    "billed_difference_usd", "billed_difference_cause", "billed_far_above_estimate", "cost_basis",
    "billed_unavailable_reason",
)


def savings_fields(by_basis: Mapping[str, float] | None) -> dict[str, Any]:
    """A job's savings by basis, and identified (measured + exact) and potential (rule of thumb) beside them."""
    parts = {name: float((by_basis or {}).get(name) or 0.0) for name in BASES}
    return {"savings_by_basis": parts, "savings_identified_usd": parts[MEASURED] + parts[EXACT],
            "savings_potential_usd": parts[RULE_OF_THUMB]}


def _days_since(iso: str | None, now: datetime) -> int | None:
    if not iso:
        return None
    return (now - datetime.fromisoformat(iso)).days


def job_report_rows(jobs: Mapping[str, Mapping[str, Any]], candidates: list[Candidate],
                    now: datetime) -> list[dict]:
    """One flat row per job (live and deleted) for the inventory files and the dashboard."""
    by_key = {c.key: c for c in candidates}
    rows = []
    for key, job in sorted(jobs.items()):
        metrics = job.get("metrics") or {}
        tags = job.get("tags") or {}
        candidate = by_key.get(key)
        arguments = set(job.get("default_argument_names") or [])
        row = {
            "key": key, "account_id": job["account_id"], "region": job["region"], "platform": job["platform"],
            "account_name": job.get("account_name"), "ou_path": job.get("ou_path"),
            "name": job["name"], "status": job["status"], "priority": candidate.priority if candidate else None,
            "job_type": job["job_type"], "worker_type": job["worker_type"],
            "number_of_workers": job["number_of_workers"], "max_capacity": job["max_capacity"],
            "glue_version": job["glue_version"], "execution_class": job["execution_class"], "tags": tags,
            **ownership(tags),
            "days_since_last_run": _days_since(metrics.get("last_run_at"), now),
            "candidate_reasons": candidate.reasons if candidate else [],
            "estimated_monthly_savings_usd": candidate.estimated_monthly_savings_usd if candidate else 0.0,
            "savings_by_reason": candidate.savings_by_reason if candidate else {},
            "savings_basis": candidate.savings_basis if candidate else None,
            **savings_fields(candidate.savings_by_basis if candidate else None),
            "last_error": job.get("last_error"),
            "deep": job.get("deep"),
            # What a deep analysis can measure the job with: CloudWatch job metrics, Spark UI event logs.
            "job_metrics": JOB_METRICS_ARGUMENT in arguments, "spark_ui": SPARK_UI_ARGUMENT in arguments,
        }
        for field in METRIC_FIELDS:
            row[field] = metrics.get(field)
        row["cost_30d_usd"] = row["cost_30d_usd"] or 0.0
        row["monthly_projection_usd"] = row["monthly_projection_usd"] or 0.0
        rows.append(row)
    return rows


def _evidence(metrics: Mapping[str, Any], reasons: list[str]) -> str:
    parts = []
    if "high_cost" in reasons and metrics.get("billed_30d_usd") is not None:
        parts.append(f"${metrics['billed_30d_usd']:,.2f} billed in 30 days")
    elif "high_cost" in reasons:
        parts.append(f"${metrics.get('monthly_projection_usd', 0):,.2f}/month")
    if "failing" in reasons:
        parts.append(f"{metrics.get('failed_runs_30d')}/{metrics.get('finished_runs_30d')} runs failed in 30 days")
    if "inactive" in reasons:
        parts.append(f"status {metrics.get('status')}, last run {metrics.get('last_run_at') or 'never'}")
    if "eol_version" in reasons:
        parts.append(f"Glue {metrics.get('glue_version_effective')} is end-of-life")
    if "missing_tags" in reasons:
        parts.append("missing tags: " + ", ".join(metrics.get("missing_tags") or []))
    if "secrets_in_arguments" in reasons:
        parts.append("secret-looking arguments: " + ", ".join(metrics.get("secret_arguments") or []))
    if "flex_eligible" in reasons:
        parts.append("could run on FLEX")
    if "code_findings" in reasons:
        parts.append("security findings in the script (deep analysis)")
    return "; ".join(parts)


def candidate_rows(candidates: list[Candidate], jobs: Mapping[str, Mapping[str, Any]],
                   lanes: Mapping[str, tuple[str, int]] | None = None) -> list[dict]:
    """One row per candidate, with the deep-analysis lane and rank that chose it (`lanes`; None when none)."""
    rows = []
    for candidate in candidates:
        job = jobs[candidate.key]
        metrics = job.get("metrics") or {}
        lane, lane_rank = (lanes or {}).get(candidate.key, (None, None))
        rows.append({
            "key": candidate.key, "data_job_id": job["data_job_id"], "name": job["name"],
            "account_id": job["account_id"], "region": job["region"],
            **ownership(job.get("tags") or {}),
            "score": candidate.score, "priority": candidate.priority, "reasons": list(candidate.reasons),
            "savings_by_reason": dict(candidate.savings_by_reason),
            "estimated_monthly_savings_usd": candidate.estimated_monthly_savings_usd,
            "savings_basis": candidate.savings_basis,
            **savings_fields(candidate.savings_by_basis),
            "deep_lane": lane, "deep_rank": lane_rank,
            "monthly_projection_usd": metrics.get("monthly_projection_usd", 0.0),
            "billed_30d_usd": metrics.get("billed_30d_usd"),
            "evidence": _evidence(metrics, candidate.reasons),
        })
    return rows
