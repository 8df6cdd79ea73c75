"""The executive numbers (one dict) and their Markdown and JSON renderings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from glue_inventory.reports.accounts import account_numbers
from glue_inventory.reports.formatting import (
    PRIORITY_ORDER,
    REASON_ORDER,
    SEVERITY_ORDER,
    STATUS_ORDER,
    cents,
    counts_in_order,
    iso,
    markdown_env,
    ordered_keys,
    parse_time,
    rank,
    to_json,
)
from glue_inventory.reports.preliminary import SCHEMA_VERSION, fleet_totals, ranked_candidates

Row = Mapping[str, Any]
TOP_ACTIONS = 10
# Names listed per change category; the counts are always complete.
CHANGE_LIST_LIMIT = 20
# DESIGN.md: `active` is a last run at most 30 days ago.
ACTIVE_DAYS = 30


@dataclass(frozen=True)
class ReportInputs:
    """What the executive report is built from: one row per job (reports.rows), the current candidates,
    past inventories (history.json), Cost Explorer's actual spend (None when unavailable), and every
    platform (storage.platforms.platform_rows) for the numbers by account and the health table."""

    jobs: Sequence[Row]
    candidates: Sequence[Row]
    history: Sequence[Row]
    cost_explorer: Row | None
    generated_at: str | datetime
    platforms: Sequence[Row] = ()

# What to do about a candidate that has no deep-analysis recommendation yet.
REASON_ACTIONS = {
    "high_cost": "Review sizing and schedule of a high-cost job",
    "failing": "Fix the failing runs (or stop scheduling them)",
    "inactive": "Delete or archive the unused job",
    "eol_version": "Upgrade off the end-of-life Glue version",
    "missing_tags": "Add the required owner and cost-center tags",
    "secrets_in_arguments": "Move secrets from job arguments to Secrets Manager",
    "flex_eligible": "Switch the job to the FLEX execution class",
}


def _action(candidate: Row, job: Row | None) -> dict[str, Any]:
    recs = ((job or {}).get("deep") or {}).get("recommendations") or []
    best = min(
        recs,
        key=lambda r: (-(r.get("est_monthly_savings_usd") or 0), rank(SEVERITY_ORDER, r.get("severity"))),
        default=None,
    )
    reasons = list(candidate.get("reasons") or [])
    first_reason = min(reasons, key=lambda r: rank(REASON_ORDER, r), default=None)
    report_path = ((job or {}).get("deep") or {}).get("report_path")
    return {
        "key": candidate["key"],
        "job": candidate.get("name"),
        "action": best["title"] if best else REASON_ACTIONS.get(first_reason or "", "Review the job"),
        "estimated_monthly_savings_usd": cents(candidate.get("estimated_monthly_savings_usd") or 0),
        "savings_basis": candidate.get("savings_basis") or "estimate",
        "priority": candidate.get("priority"),
        "score": candidate.get("score"),
        "reasons": reasons,
        "evidence": candidate.get("evidence"),
        "owner": candidate.get("owner") or (job or {}).get("team"),
        "report_path": report_path,
    }


def _previous(history: Sequence[Row], now: datetime | None) -> Row | None:
    earlier = [s for s in history if now is None or (parse_time(s["generated_at"]) or now) < now]
    return max(earlier, key=lambda s: parse_time(s["generated_at"]), default=None)


def _newly_idle(job: Row, previous_at: datetime) -> bool:
    """Idle now and active at the previous inventory, judged from the last run's date.

    Snapshots hold only keys, not statuses, so the earlier status is derived: a job whose last
    run was at most 30 days before the previous inventory (or after it) was active then.
    """
    last_run = parse_time(job.get("last_run_at"))
    if job.get("status") != "idle" or last_run is None:
        return False
    return last_run >= previous_at or (previous_at - last_run).days <= ACTIVE_DAYS


def _change(jobs: Sequence[Row], history: Sequence[Row], now: datetime | None, spend: float) -> dict | None:
    previous = _previous(history, now)
    if previous is None:
        return None
    previous_at = parse_time(previous["generated_at"])
    before = set(previous.get("job_keys") or [])
    live = {job["key"]: job for job in jobs if job.get("status") != "deleted"}
    names = {job["key"]: job.get("name") for job in jobs}
    new = sorted(set(live) - before)
    deleted = sorted(before - set(live))
    newly_idle = sorted(k for k, job in live.items() if k in before and _newly_idle(job, previous_at))
    previous_spend = previous.get("monthly_projection_usd")

    def listing(keys: list[str]) -> dict[str, Any]:
        return {"count": len(keys), "jobs": [names.get(k) or k.split("/", 2)[-1] for k in keys[:CHANGE_LIST_LIMIT]]}

    return {
        "previous_generated_at": iso(previous_at),
        "new": listing(new),
        "deleted": listing(deleted),
        "newly_idle": listing(newly_idle),
        "previous_monthly_projection_usd": cents(previous_spend),
        "monthly_projection_delta_usd": None if previous_spend is None else cents(spend - previous_spend),
    }


def _trend(history: Sequence[Row], now: datetime | None, totals: Mapping[str, Any]) -> list[dict[str, Any]]:
    points = [
        {
            "generated_at": iso(s["generated_at"]),
            "monthly_projection_usd": cents(s.get("monthly_projection_usd")),
            "jobs_by_status": counts_in_order(STATUS_ORDER, s.get("jobs_by_status") or {}),
        }
        for s in history
        if now is None or (parse_time(s["generated_at"]) or now) < now
    ]
    points.sort(key=lambda p: p["generated_at"])
    current = {status: row["jobs"] for status, row in totals["by_status"].items()}
    return [*points, {"generated_at": iso(now), "monthly_projection_usd": totals["monthly_projection_usd"],
                      "jobs_by_status": current}]  # fmt: skip


def executive_numbers(inputs: ReportInputs) -> dict[str, Any]:
    """Every number the executive summary, its JSON and the dashboard show, computed once."""
    jobs, candidates, history, cost_explorer = inputs.jobs, inputs.candidates, inputs.history, inputs.cost_explorer
    now = parse_time(inputs.generated_at)
    totals = fleet_totals(jobs)
    estimated = totals["monthly_projection_usd"]
    actual = None if cost_explorer is None else cents(cost_explorer.get("actual_usd"))
    by_reason: dict[str, float] = {}
    for candidate in candidates:
        for reason, amount in (candidate.get("savings_by_reason") or {}).items():
            by_reason[reason] = by_reason.get(reason, 0.0) + (amount or 0)
    jobs_by_key = {job["key"]: job for job in jobs}
    deep_jobs = [job for job in jobs if job.get("deep")]
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": iso(now),
        "jobs": {
            "total": totals["jobs"],
            "live": totals["live_jobs"],
            "by_status": {s: row["jobs"] for s, row in totals["by_status"].items()},
        },
        "spend": {
            "cost_30d_usd": totals["cost_30d_usd"],
            "estimated_monthly_usd": estimated,
            "by_status": {s: row["monthly_projection_usd"] for s, row in totals["by_status"].items()},
            "actual_30d_usd": actual,
            "actual_period": None
            if cost_explorer is None
            else {"start": cost_explorer.get("period_start"), "end": cost_explorer.get("period_end")},
            "gap_usd": None if actual is None else cents(actual - estimated),
            "gap_pct": None if not actual else round((actual - estimated) / actual, 4),
        },
        "savings": {
            "candidates": len(candidates),
            "total_monthly_usd": cents(sum(c.get("estimated_monthly_savings_usd") or 0 for c in candidates)),
            # Measured by a deep analysis (right-sizing, Python shell) apart from the preliminary estimates.
            "by_basis": {basis: cents(sum(c.get("estimated_monthly_savings_usd") or 0 for c in candidates
                                          if (c.get("savings_basis") or "estimate") == basis))
                         for basis in ("measured", "estimate")},
            "by_reason": {r: cents(by_reason[r]) for r in ordered_keys(REASON_ORDER, by_reason)},
        },
        "top_actions": [_action(c, jobs_by_key.get(c["key"])) for c in ranked_candidates(candidates)[:TOP_ACTIONS]],
        "security": {
            "secret_argument_jobs": totals["secret_argument_jobs"],
            "secret_arguments": sum(len(j.get("secret_arguments") or []) for j in jobs if j.get("status") != "deleted"),
            "code_security_findings": sum((j["deep"].get("security_findings") or 0) for j in deep_jobs),
            "jobs_deep_analysed": len(deep_jobs),
        },
        "eol": {"jobs": totals["eol_jobs"], "by_version": totals["eol_versions"]},
        "hygiene": {"missing_tag_jobs": totals["missing_tag_jobs"]},
        "priorities": counts_in_order(PRIORITY_ORDER, _count(c.get("priority") or "none" for c in candidates)),
        "change": _change(jobs, history, now, estimated or 0.0),
        "trend": _trend(history, now, totals),
        "accounts": account_numbers(jobs, candidates, inputs.platforms),
    }


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def executive_summary_md(numbers: Mapping[str, Any]) -> str:
    return markdown_env().get_template("executive_summary.md.j2").render(n=numbers)


def executive_json(numbers: Mapping[str, Any]) -> str:
    return to_json(numbers)
