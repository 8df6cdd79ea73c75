"""The executive report: every job, the current candidates and the latest deep analyses, rendered as
the executive summary, the offline dashboard and their JSON, with the trend of past inventories."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime, timedelta

from glue_inventory.analysis.actions.realized import WINDOW_DAYS
from glue_inventory.analysis.findings import is_security_finding
from glue_inventory.analysis.tags import ownership
from glue_inventory.aws.cost_explorer import glue_spend_usd
from glue_inventory.aws.errors import AWS_ERRORS, describe_any
from glue_inventory.aws.sessions import PlatformUnreachable, SessionMap
from glue_inventory.config import Settings
from glue_inventory.reports.dashboard import dashboard_html
from glue_inventory.reports.executive import ReportInputs, executive_json, executive_numbers, executive_summary_md
from glue_inventory.reports.paths import job_report_relpath
from glue_inventory.reports.rows import job_report_rows, savings_fields
from glue_inventory.services.cost.bill import billing_summary, billing_view, view_fields
from glue_inventory.services.cost.tool_cost import ToolUsage, inventory_tool_cost
from glue_inventory.storage.actions.remediation import current_plans, events_since
from glue_inventory.storage.analyses import latest_deep
from glue_inventory.storage.candidates import current_candidates
from glue_inventory.storage.jobs import read_jobs
from glue_inventory.storage.platforms import platform_rows
from glue_inventory.storage.repository import Bind

HISTORY_FILE = "history.json"
# Snapshots kept for the trend chart: two years of daily refreshes.
HISTORY_LIMIT = 730
# Cost Explorer's window: the same 30 days as the estimate.
SPEND_DAYS = 30


@dataclass
class ExecutiveReport:
    files: dict[str, str]
    summary_md: str
    numbers: dict


def deep_summaries(bind: Bind) -> dict[int, dict]:
    """The newest deep analysis of each job, summarised for the dashboard."""
    deep = {}
    for job_id, row in latest_deep(bind).items():
        findings = (row["code_analysis"] or {}).get("findings") or []
        deep[job_id] = {
            "recommendations": row["recommendations"] or [],
            "code_findings": dict(Counter(finding.get("severity") or "info" for finding in findings)),
            "security_findings": sum(1 for f in findings if is_security_finding(f)),
        }
    return deep


def actual_glue_spend(sessions: SessionMap, now: datetime, job_platforms: Set[tuple[str, str]] = frozenset()
                      ) -> dict:
    """Glue spend of the last 30 days from Cost Explorer (once per account: the configured platforms' and
    those `job_platforms` (account, Region) hold jobs in); `actual_usd` None and the `reason` when it is not
    available."""
    start, end = (now - timedelta(days=SPEND_DAYS)).date().isoformat(), now.date().isoformat()
    spend = {"period_start": start, "period_end": end, "actual_usd": None}
    targets = dict(sorted(job_platforms)) | {account: region for account, region in sessions.accounts()}
    if sessions.failures:
        # A total without some accounts would understate the spend.
        return spend | {"reason": "Cost Explorer not asked: some platforms cannot be reached"}
    try:
        total = sum(glue_spend_usd(sessions.session(account, region).cost_explorer, start, end, account)
                    for account, region in targets.items())
    except (*AWS_ERRORS, PlatformUnreachable) as exc:
        return spend | {"reason": f"Cost Explorer: {describe_any(exc)}"}
    if total <= 0:
        # No Glue spend at all is Cost Explorer not having the data (new account, not enabled), not a $0 bill.
        return spend | {"reason": f"Cost Explorer has no Glue spend for {start} to {end}"}
    return spend | {"actual_usd": total}


def realized_events(bind: Bind, now: datetime) -> list[dict]:
    """The remediation changes of the last 90 days, each with its job's key and team (from the team tag)."""
    return [{**event, "key": event["partition_key"], "team": ownership(event["tags"] or {})["team"]}
            for event in events_since(bind, now - timedelta(days=WINDOW_DAYS))]


def executive_report(bind: Bind, sessions: SessionMap, history: list | None, now: datetime,
                     settings: Settings | None = None, usage: ToolUsage | None = None) -> ExecutiveReport:
    """The report files (executive summary, dashboard, JSON, the history with this inventory added); with
    `usage`, what the inventory cost in AWS charges (`tool_cost`)."""
    jobs = read_jobs(bind)
    bill = billing_view(bind, settings or Settings(), jobs, now)
    candidates = current_candidates(bind)
    deep = deep_summaries(bind)
    for job in jobs.values():
        if job["data_job_id"] in deep:
            job["deep"] = deep[job["data_job_id"]] | {"report_path": job_report_relpath(job["partition_key"])}
    rows = _with_candidates(job_report_rows(jobs, [], now), candidates)
    billed = view_fields(bill, jobs) if settings and settings.billing else {}
    for row in rows:
        row.update(billed.get(row["key"], {}))
    history = history or []
    live = {(job["account_id"], job["region"]) for job in jobs.values() if job["status"] != "deleted"}
    spend = actual_glue_spend(sessions, now, live)
    numbers = executive_numbers(ReportInputs(rows, candidates, history, spend, now, platform_rows(bind),
                                             plans=current_plans(bind), events=realized_events(bind, now),
                                             billing=billing_summary(bill),
                                             active_days=(settings or Settings()).thresholds.active_days))
    if usage is not None:
        numbers["tool_cost"] = inventory_tool_cost(bind, settings or Settings(), usage, now)
    snapshot = {"generated_at": now.isoformat(), "jobs_by_status": numbers["jobs"]["by_status"],
                "monthly_projection_usd": numbers["spend"]["estimated_monthly_usd"],
                "savings_identified_usd": numbers["savings"]["total_monthly_usd"],
                "savings_potential_usd": numbers["savings"]["potential_monthly_usd"],
                "savings_realized_usd": numbers["savings"]["realized"]["last_90_days"]["monthly_usd"],
                "job_keys": sorted(j["key"] for j in rows if j["status"] != "deleted")}
    summary = executive_summary_md(numbers)
    files = {
        "executive_summary.md": summary,
        "executive.json": executive_json(numbers),
        "dashboard.html": dashboard_html(rows, numbers),
        HISTORY_FILE: json.dumps((history + [snapshot])[-HISTORY_LIMIT:]),
    }
    return ExecutiveReport(files=files, summary_md=summary, numbers=numbers)


def _with_candidates(rows: list[dict], candidates: Sequence[Mapping]) -> list[dict]:
    by_key = {c["key"]: c for c in candidates}
    for row in rows:
        candidate = by_key.get(row["key"])
        if candidate:
            row.update(priority=candidate["priority"], candidate_reasons=candidate["reasons"],
                       estimated_monthly_savings_usd=candidate["estimated_monthly_savings_usd"],
                       savings_by_reason=candidate["savings_by_reason"], savings_basis=candidate["savings_basis"],
                       **savings_fields(candidate["savings_by_basis"]))
    return rows
