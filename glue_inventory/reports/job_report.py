"""The per-job Markdown report: what the job is, what it costs, what is wrong and what to do first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from glue_inventory.analysis.cost.reconcile import NOT_CONFIGURED
from glue_inventory.analysis.cost.savings import BASES
from glue_inventory.reports.event_logs import event_log_context
from glue_inventory.reports.formatting import SEVERITY_ORDER, cents, iso, markdown_env, pick, rank

Row = Mapping[str, Any]
METRICS_DISABLED = "metrics_disabled"
# Evidence lines shown per finding group; the full list stays in the database.
MAX_FINDINGS = 50
JOB_FIELDS = (
    "key", "account_id", "region", "platform", "name", "status", "priority", "job_type", "worker_type",
    "number_of_workers", "max_capacity", "capacity_dpu", "glue_version", "execution_class", "owner", "team",
    "cost_center", "last_run_state", "days_since_last_run", "runs_30d", "finished_runs_30d", "failed_runs_30d",
    "failure_rate_30d", "dpu_hours_30d", "cost_30d_usd", "monthly_projection_usd", "eol_version", "missing_tags",
    "secret_arguments", "candidate_reasons", "estimated_monthly_savings_usd", "savings_basis",
    "savings_identified_usd", "savings_potential_usd", "chosen_by",
    "billed_30d_usd", "billed_net_30d_usd", "estimate_billed_days_usd", "billed_difference_usd",
    "billed_difference_cause",
)  # fmt: skip
FINDING_FIELDS = ("rule_id", "severity", "line", "message", "source", "snippet")
RECOMMENDATION_FIELDS = ("title", "category", "severity", "est_monthly_savings_usd", "savings_basis", "effort",
                         "source")


def _evidence_lines(evidence: Row) -> list[str]:
    labels = {
        "peak_needed_executors": "peak executors needed",
        "available_executors": "executors available",
        "peak_heap_usage": "peak JVM heap usage",
        "runs_with_metrics": "runs with metrics",
        "monthly_dpu_hours": "DPU-hours in the last 30 days",
        "runs_with_event_logs": "runs with event logs",
        "recommended_executors": "executors the replay recommends",
        "predicted_s_now": "predicted run time now (s)",
        "predicted_s_recommended": "predicted run time recommended (s)",
        "predicted_slowdown": "predicted slowdown",
        "max_slowdown": "slowdown allowed (deep_analysis.max_slowdown)",
    }
    return [f"{label}: {evidence[key]:g}" for key, label in labels.items()
            if isinstance(evidence.get(key), int | float)]


def _rightsizing(metrics: Row | None) -> dict[str, Any] | None:
    """The right-sizing result of `analysis.rightsizing.recommend_capacity`, shaped for the template."""
    if not metrics:
        return None
    messages = " ".join(f["message"] for f in metrics.get("findings") or [] if f.get("message"))
    if metrics.get("status") in (METRICS_DISABLED, "insufficient_data", "not_applicable") \
            or not metrics.get("current"):
        return {"disabled": metrics["status"] == METRICS_DISABLED, "unavailable": True, "message": messages}
    return {
        "disabled": False,
        "unavailable": False,
        "status": metrics.get("status"),
        "current": metrics.get("current") or {},
        "recommended": metrics.get("recommended") or {},
        "saving": cents(metrics.get("estimated_monthly_savings_usd")),
        "increase": cents(metrics.get("estimated_monthly_increase_usd")),
        "evidence": _evidence_lines(metrics.get("evidence") or {}),
        "message": messages,
        "choice": (metrics.get("choice") or {}).get("why"),
    }


def _by_severity(items: Sequence[Row]) -> list[Row]:
    return sorted(
        items,
        key=lambda item: (
            rank(SEVERITY_ORDER, item.get("severity")),
            -(item.get("est_monthly_savings_usd") or 0),
            item.get("line") or 0,
        ),
    )


def _scalars(data: Row | None) -> list[tuple[str, Any]]:
    """The flat part of a free-form analysis dict, for a key/value table."""
    return [
        (key, cents(value) if key.endswith("_usd") and not isinstance(value, str) else value)
        for key, value in sorted((data or {}).items())
        if isinstance(value, str | int | float | bool) or value is None
    ]


def _ai(ai: Row | None) -> dict[str, Any]:
    ai = ai or {}
    recs = []
    for rec in ai.get("recommendations") or []:
        if not isinstance(rec, Mapping):
            rec = {"title": str(rec)}
        title = rec.get("title") or rec.get("description") or "Recommendation"
        detail = rec.get("detail") or (rec.get("description") if rec.get("title") else None)
        recs.append({"title": title, "severity": rec.get("severity"), "detail": detail})
    return {
        "status": ai.get("status") or "skipped",
        "summary": ai.get("summary"),
        "overall_risk": ai.get("overall_risk"),
        "recommendations": recs,
        "reason": ai.get("reason") or ai.get("error"),
    }


def job_report_md(job_row: Row, deep: Row) -> str:
    """Markdown for one job from its inventory row and its deep-analysis results."""
    code = deep.get("code_analysis") or {}
    findings = _by_severity([pick(f, FINDING_FIELDS) for f in code.get("findings") or []])
    recommendations = _by_severity([pick(r, RECOMMENDATION_FIELDS) for r in deep.get("recommendations") or []])
    severity_counts: dict[str, int] = {}
    for finding in findings:
        severity = finding.get("severity") or "info"
        severity_counts[severity] = severity_counts.get(severity, 0) + 1
    return (
        markdown_env()
        .get_template("job_report.md.j2")
        .render(
            job=pick(job_row, JOB_FIELDS),
            last_run_at=iso(job_row.get("last_run_at")),
            recommendations=recommendations,
            savings_by_basis={b: cents((job_row.get("savings_by_basis") or {}).get(b) or 0.0) for b in BASES},
            rightsizing=_rightsizing(deep.get("metrics")),
            findings=findings[:MAX_FINDINGS],
            finding_count=len(findings),
            evidence=[f for f in findings[:MAX_FINDINGS] if f.get("snippet")],
            severity_counts=dict(sorted(severity_counts.items(), key=lambda item: rank(SEVERITY_ORDER, item[0]))),
            code_summary=code.get("summary"),
            ai=_ai(deep.get("ai_analysis")),
            cost=_scalars(deep.get("cost_analysis")),
            savings_by_reason={r: cents(v) for r, v in (job_row.get("savings_by_reason") or {}).items()},
            billed_unavailable=job_row.get("billed_unavailable_reason") or NOT_CONFIGURED,
            event_logs=event_log_context(deep.get("event_logs"), job_row.get("worker_type")),
        )
    )
