"""The executive numbers (one dict) and their Markdown and JSON renderings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from glue_inventory.analysis.actions.realized import LABELS, monthly_saving, realized_totals
from glue_inventory.analysis.actions.wording import REASON_ACTIONS
from glue_inventory.analysis.candidates import RISK_POINTS
from glue_inventory.analysis.cost.savings import BASES, RULE_OF_THUMB, basis_of, fleet_savings
from glue_inventory.analysis.findings import SEVERE
from glue_inventory.analysis.fleet import fleet_numbers
from glue_inventory.analysis.tags import OWNERSHIP_TAGS
from glue_inventory.analysis.types import SPARK_JOB_TYPES
from glue_inventory.reports.accounts import account_numbers
from glue_inventory.reports.billing import billing_numbers
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
from glue_inventory.reports.preliminary import fleet_totals

Row = Mapping[str, Any]
# executive.json's own version: 2 replaced `top_actions` by `rankings` (largest savings, highest risks, each
# action with its own saving) and added `savings.realized`.
SCHEMA_VERSION = 2
TOP_ACTIONS = 10
# Names listed per change category; the counts are always complete.
CHANGE_LIST_LIMIT = 20


@dataclass(frozen=True)
class ReportInputs:
    """What the executive report is built from: one row per job (reports.rows), the current candidates,
    past inventories (history.json), Cost Explorer's actual spend (None, or `actual_usd` None with a `reason`,
    when unavailable), every platform (storage.platforms.platform_rows) for the numbers by account and the
    health table, and the bill (services.billing.billing_summary; None when billing is not configured)."""

    jobs: Sequence[Row]
    candidates: Sequence[Row]
    history: Sequence[Row]
    cost_explorer: Row | None
    generated_at: str | datetime
    platforms: Sequence[Row] = ()
    # Current remediation plans ({key, kind, plan_id, …}): the rankings name the plan of each action.
    plans: Sequence[Row] = ()
    # remediation_events of the last 90 days, each with its job's key, name, team and account_id.
    events: Sequence[Row] = ()
    billing: Row | None = None
    # thresholds.active_days: the last-run age up to which a job counts as active.
    active_days: int = 30


def _candidate_actions(candidate: Row, job: Row | None) -> list[dict[str, Any]]:
    """What can be done about a candidate, each with its own monthly saving and what it rests on: the job
    report's recommendations once a deep analysis ran (the same figures as that report, none when it found
    nothing to do), else one action per candidate reason."""
    deep = (job or {}).get("deep")
    if deep:
        return [{"title": r["title"], "est_monthly_savings_usd": r.get("est_monthly_savings_usd") or 0.0,
                 "severity": r.get("severity"), "category": r.get("category"), "reason": r.get("reason"),
                 "plan_kind": r.get("plan_kind"), "savings_basis": r.get("savings_basis")}
                for r in deep.get("recommendations") or []]
    savings = candidate.get("savings_by_reason") or {}
    return [{"title": action.title, "est_monthly_savings_usd": savings.get(reason) or 0.0,
             "severity": action.severity, "category": action.category, "reason": reason,
             "plan_kind": action.plan_kind, "savings_basis": basis_of(reason) if savings.get(reason) else None}
            for reason in candidate.get("reasons") or [] if (action := REASON_ACTIONS.get(reason))]


def _risk_points(action: Row) -> float:
    return RISK_POINTS.get(action.get("reason") or "", 0.0)


def _is_risk(action: Row) -> bool:
    return _risk_points(action) > 0 or (action.get("category") != "cost" and action.get("severity") in SEVERE)


def _ranked_row(candidate: Row, job: Row | None, action: Row, plans: Mapping[tuple[str, str], str]) -> dict:
    return {
        "key": candidate["key"],
        "job": candidate.get("name"),
        "action": action["title"],
        "reason": action.get("reason"),
        "est_monthly_savings_usd": cents(action["est_monthly_savings_usd"]),
        "savings_basis": action["savings_basis"],
        "severity": action.get("severity"),
        "priority": candidate.get("priority"),
        "score": candidate.get("score"),
        "reasons": list(candidate.get("reasons") or []),
        "evidence": candidate.get("evidence"),
        **{field: candidate.get(field) for field in OWNERSHIP_TAGS},
        "report_path": ((job or {}).get("deep") or {}).get("report_path"),
        "plan_id": plans.get((candidate["key"], action.get("plan_kind") or "")),
    }


def _rankings(candidates: Sequence[Row], jobs_by_key: Mapping[str, Row],
              plans: Mapping[tuple[str, str], str]) -> dict[str, list[dict[str, Any]]]:
    """Two top-10 lists: the largest savings (each job's best-saving action) and the highest risks (each
    job's most severe risk action), every action shown with its own saving."""
    savings, risks = [], []
    for candidate in candidates:
        job = jobs_by_key.get(candidate["key"])
        actions = _candidate_actions(candidate, job)
        saving = max(actions, key=lambda a: (a["est_monthly_savings_usd"], -rank(SEVERITY_ORDER, a["severity"])),
                     default=None)
        if saving and saving["est_monthly_savings_usd"] > 0:
            savings.append(_ranked_row(candidate, job, saving, plans))
        risky = [action for action in actions if _is_risk(action)]
        if risky:
            worst = min(risky, key=lambda a: (rank(SEVERITY_ORDER, a["severity"]), -_risk_points(a),
                                              -a["est_monthly_savings_usd"]))
            risks.append(_ranked_row(candidate, job, worst, plans)
                         | {"risk_points": max(_risk_points(a) for a in risky)})
    savings.sort(key=lambda a: (-(a["est_monthly_savings_usd"] or 0), a["key"]))
    risks.sort(key=lambda a: (rank(PRIORITY_ORDER, a["priority"]), rank(SEVERITY_ORDER, a["severity"]),
                              -a["risk_points"], -(a["score"] or 0), a["key"]))
    return {"largest_savings": savings[:TOP_ACTIONS], "highest_risks": risks[:TOP_ACTIONS]}


# Jobs listed under "potential, not yet measured"; the total counts them all.
TO_MEASURE = 10


def _measure_how(candidate: Row, job: Row | None) -> str:
    """What it takes to turn a job's rule-of-thumb saving into a measured one."""
    job = job or {}
    if job.get("job_type") not in SPARK_JOB_TYPES:
        return "nothing to measure it with: right-sizing covers Spark jobs; review the job's capacity by hand"
    if not (job.get("job_metrics") or job.get("spark_ui")):
        return ("enable --enable-metrics (remediation plan enable_job_metrics) or the Spark UI, then run its deep "
                "analysis")
    if (job.get("deep") or {}).get("report_path"):
        return "its deep analysis found no usable executor metrics in the last runs: run it again after new runs"
    if candidate.get("deep_lane"):
        return f"its deep analysis is due (chosen: {candidate['deep_lane']} lane #{candidate.get('deep_rank')})"
    return "run its deep analysis: raise deep_analysis.top_k_savings or tag it glue-inventory:deep-analysis=true"


def _to_measure(candidates: Sequence[Row], jobs_by_key: Mapping[str, Row]) -> list[dict[str, Any]]:
    """The jobs with the largest rule-of-thumb savings, each with how to measure it."""
    potential = [c for c in candidates if ((c.get("savings_by_basis") or {}).get(RULE_OF_THUMB) or 0) > 0]
    potential.sort(key=lambda c: (-c["savings_by_basis"][RULE_OF_THUMB], c["key"]))
    return [{"key": c["key"], "job": c.get("name"), "potential_usd": cents(c["savings_by_basis"][RULE_OF_THUMB]),
             "how": _measure_how(c, jobs_by_key.get(c["key"]))} for c in potential[:TO_MEASURE]]


EARLIEST = datetime.min.replace(tzinfo=UTC)


def _previous(history: Sequence[Row], now: datetime | None) -> Row | None:
    earlier = [s for s in history if now is None or (parse_time(s["generated_at"]) or now) < now]
    return max(earlier, key=lambda s: parse_time(s["generated_at"]) or EARLIEST, default=None)


def _newly_idle(job: Row, previous_at: datetime, active_days: int) -> bool:
    """Idle now and active at the previous inventory, judged from the last run's date.

    Snapshots hold only keys, not statuses, so the earlier status is derived: a job whose last run was at
    most `active_days` (thresholds.active_days) before the previous inventory (or after it) was active then.
    """
    last_run = parse_time(job.get("last_run_at"))
    if job.get("status") != "idle" or last_run is None:
        return False
    return last_run >= previous_at or (previous_at - last_run).days <= active_days


def _change(jobs: Sequence[Row], history: Sequence[Row], now: datetime | None, spend: float,
            active_days: int) -> dict | None:
    previous = _previous(history, now)
    if previous is None:
        return None
    previous_at = parse_time(previous["generated_at"])
    if previous_at is None:
        return None
    before = set(previous.get("job_keys") or [])
    live = {job["key"]: job for job in jobs if job.get("status") != "deleted"}
    names = {job["key"]: job.get("name") for job in jobs}
    new = sorted(set(live) - before)
    deleted = sorted(before - set(live))
    newly_idle = sorted(k for k, job in live.items() if k in before and _newly_idle(job, previous_at, active_days))
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


def _trend(history: Sequence[Row], now: datetime | None, totals: Mapping[str, Any],
           savings: Mapping[str, float | None]) -> list[dict[str, Any]]:
    """One point per inventory: spend, jobs by status, and the monthly savings identified and realized (last 90
    days) — inventories made before savings were tracked have none."""
    points = [
        {
            "generated_at": iso(s["generated_at"]),
            "monthly_projection_usd": cents(s.get("monthly_projection_usd")),
            "jobs_by_status": counts_in_order(STATUS_ORDER, s.get("jobs_by_status") or {}),
            **{name: cents(s.get(name)) for name in savings},
        }
        for s in history
        if now is None or (parse_time(s["generated_at"]) or now) < now
    ]
    points.sort(key=lambda p: str(p["generated_at"]))
    current = {status: row["jobs"] for status, row in totals["by_status"].items()}
    return [*points, {"generated_at": iso(now), "monthly_projection_usd": totals["monthly_projection_usd"],
                      "jobs_by_status": current, **savings}]  # fmt: skip


# Changes listed one by one in the reports; the totals count them all.
REALIZED_LIST_LIMIT = 20


def _period(period: Row) -> dict[str, Any]:
    return {"start": iso(period["start"]), "changes": period["changes"], "monthly_usd": cents(period["monthly_usd"]),
            "saved_usd": cents(period["saved_usd"])}


def _change_row(event: Row) -> dict[str, Any]:
    return {"job": event.get("name"), "key": event.get("key"), "kind": event["kind"],
            "change": LABELS.get(event["kind"], event["kind"]), "detected_at": iso(event["detected_at"]),
            "applied_by": event.get("applied_by"), "plan_id": event.get("plan_id"),
            "monthly_cost_before_usd": cents(event.get("monthly_cost_before_usd")),
            "monthly_cost_after_usd": cents(event.get("monthly_cost_after_usd")),
            "monthly_savings_usd": cents(monthly_saving(event)), "team": event.get("team"),
            "account_id": event.get("account_id")}


def _realized(events: Sequence[Row], now: datetime) -> dict[str, Any]:
    """Savings realized: this month and the last 90 days, by kind, team and account, and the latest changes."""
    totals = realized_totals(events, now)
    latest = sorted(events, key=lambda e: (e["detected_at"], e.get("key") or ""), reverse=True)
    return {"month_to_date": _period(totals["month_to_date"]), "last_90_days": _period(totals["last_90_days"]),
            **{group: {name: cents(amount) for name, amount in totals[group].items()}
               for group in ("by_kind", "by_team", "by_account")},
            "changes": [_change_row(event) for event in latest[:REALIZED_LIST_LIMIT]]}


def executive_numbers(inputs: ReportInputs) -> dict[str, Any]:
    """Every number the executive summary, its JSON and the dashboard show, computed once."""
    jobs, candidates, history, cost_explorer = inputs.jobs, inputs.candidates, inputs.history, inputs.cost_explorer
    now = parse_time(inputs.generated_at) or datetime.now(UTC)
    totals = fleet_totals(jobs)
    fleet = fleet_numbers(jobs, candidates)
    estimated = fleet.estimated_monthly_usd
    actual = None if cost_explorer is None else cents(cost_explorer.get("actual_usd"))
    by_reason: dict[str, float] = {}
    for candidate in candidates:
        for reason, amount in (candidate.get("savings_by_reason") or {}).items():
            by_reason[reason] = by_reason.get(reason, 0.0) + (amount or 0)
    jobs_by_key = {job["key"]: job for job in jobs}
    deep_jobs = [job for job in jobs if job.get("deep")]
    split = fleet_savings(c.get("savings_by_basis") for c in candidates)
    identified = fleet.savings_identified_usd
    realized = _realized(inputs.events, now)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": iso(now),
        "jobs": {
            "total": totals["jobs"],
            "live": fleet.live_jobs,
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
            "actual_unavailable_reason": None if actual is not None
            else (cost_explorer or {}).get("reason") or "Cost Explorer not asked",
        },
        "billing": billing_numbers(inputs.billing, jobs, inputs.platforms),
        "savings": {
            "candidates": fleet.candidates,
            # Savings identified: measured + exact. The rule of thumb is potential, never added to it.
            "total_monthly_usd": identified,
            "potential_monthly_usd": fleet.savings_potential_usd,
            "by_basis": {basis: split[basis] for basis in BASES},
            "by_reason": {r: cents(by_reason[r]) for r in ordered_keys(REASON_ORDER, by_reason)},
            "reason_basis": {r: basis_of(r) for r in ordered_keys(REASON_ORDER, by_reason)},
            "to_measure": _to_measure(candidates, jobs_by_key),
            "realized": realized,
        },
        "rankings": _rankings(candidates, jobs_by_key, {(p["key"], p["kind"]): p["plan_id"] for p in inputs.plans}),
        "security": {
            "secret_argument_jobs": totals["secret_argument_jobs"],
            "secret_arguments": sum(len(j.get("secret_arguments") or []) for j in jobs if j.get("status") != "deleted"),
            "code_security_findings": sum((j["deep"].get("security_findings") or 0) for j in deep_jobs),
            "jobs_deep_analysed": len(deep_jobs),
        },
        "eol": {"jobs": totals["eol_jobs"], "by_version": totals["eol_versions"]},
        "hygiene": {"missing_tag_jobs": totals["missing_tag_jobs"]},
        "priorities": counts_in_order(PRIORITY_ORDER, _count(c.get("priority") or "none" for c in candidates)),
        "change": _change(jobs, history, now, estimated or 0.0, inputs.active_days),
        "trend": _trend(history, now, totals, {"savings_identified_usd": identified,
                                               "savings_realized_usd": realized["last_90_days"]["monthly_usd"]}),
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
