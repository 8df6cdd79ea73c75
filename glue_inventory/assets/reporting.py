"""Reporting group: the executive summary, the offline dashboard and their JSON."""

import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa
from botocore.exceptions import BotoCoreError, ClientError

from glue_inventory.assets.rows import job_report_rows
from glue_inventory.reports.dashboard import dashboard_html
from glue_inventory.reports.executive import executive_json, executive_numbers, executive_summary_md
from glue_inventory.reports.paths import job_report_relpath
from glue_inventory.resources import AwsPlatforms, InventoryDatabase, ReportsLocation
from glue_inventory.storage.io_managers import read_jobs
from glue_inventory.storage.tables import analysis_runs, data_jobs, deep_analysis_candidates

HISTORY_FILE = "history.json"
# Snapshots kept for the trend chart: two years of daily refreshes.
HISTORY_LIMIT = 730


def current_candidates(conn: sa.Connection) -> list[dict]:
    query = (sa.select(deep_analysis_candidates, data_jobs.c.partition_key, data_jobs.c.name, data_jobs.c.tags)
             .join(data_jobs, data_jobs.c.id == deep_analysis_candidates.c.data_job_id)
             .where(deep_analysis_candidates.c.is_current))
    rows = []
    for row in conn.execute(query).mappings():
        tags = row["tags"] or {}
        rows.append({"key": row["partition_key"], "name": row["name"], "score": row["score"],
                     "priority": row["priority"], "reasons": row["reasons"],
                     "savings_by_reason": row["savings_by_reason"] or {},
                     "estimated_monthly_savings_usd": row["estimated_monthly_savings_usd"] or 0.0,
                     "owner": next((v for k, v in tags.items() if k.lower() == "owner"), None)})
    return rows


def latest_deep(conn: sa.Connection) -> dict[int, dict]:
    """The newest deep analysis of each job, summarised for the dashboard."""
    newest = (sa.select(analysis_runs.c.data_job_id, sa.func.max(analysis_runs.c.id).label("id"))
              .where(analysis_runs.c.analysis_type == "deep").group_by(analysis_runs.c.data_job_id).subquery())
    query = sa.select(analysis_runs).join(newest, newest.c.id == analysis_runs.c.id)
    deep = {}
    for row in conn.execute(query).mappings():
        findings = (row["code_analysis"] or {}).get("findings") or []
        counts: dict[str, int] = {}
        for finding in findings:
            counts[finding.get("severity") or "info"] = counts.get(finding.get("severity") or "info", 0) + 1
        deep[row["data_job_id"]] = {
            "recommendations": row["recommendations"] or [],
            "code_findings": counts,
            "security_findings": sum(1 for f in findings if f.get("source") == "bandit" or "secret" in f["rule_id"]
                                     or "credential" in f["rule_id"]),
        }
    return deep


def actual_glue_spend(aws: AwsPlatforms, now: datetime) -> dict | None:
    """Glue spend of the last 30 days from Cost Explorer (once per account), or None when unavailable."""
    start, end = (now - timedelta(days=30)).date().isoformat(), now.date().isoformat()
    total, seen = 0.0, set()
    for session in aws.sessions():
        try:
            account = session.resolve_account_id()
            if account in seen:
                continue
            seen.add(account)
            response = session.client("ce").get_cost_and_usage(
                TimePeriod={"Start": start, "End": end}, Granularity="MONTHLY", Metrics=["UnblendedCost"],
                Filter={"Dimensions": {"Key": "SERVICE", "Values": ["AWS Glue"]}})
        except (ClientError, BotoCoreError):
            return None
        for period in response.get("ResultsByTime", []):
            total += float(period.get("Total", {}).get("UnblendedCost", {}).get("Amount", 0.0))
    return {"period_start": start, "period_end": end, "actual_usd": total}


@dg.asset(group_name="reporting", deps=["deep_analysis_candidates", "job_deep_analysis"], pool="aws_api",
          io_manager_key="report_files", kinds={"html", "markdown"})
def executive_report(context: dg.AssetExecutionContext, aws: AwsPlatforms, inventory_db: InventoryDatabase,
                     reports: ReportsLocation) -> dg.Output[dict[str, str]]:
    """What a head of data platform reads on Monday: spend, dead jobs, risks and the first actions."""
    now = datetime.now(UTC)
    with inventory_db.engine().connect() as conn:
        jobs = read_jobs(conn)
        candidates = current_candidates(conn)
        deep = latest_deep(conn)
    for job in jobs.values():
        if job["data_job_id"] in deep:
            job["deep"] = deep[job["data_job_id"]] | {"report_path": job_report_relpath(job["partition_key"])}
    rows = job_report_rows(jobs, [], now)
    by_key = {c["key"]: c for c in candidates}
    for row in rows:
        candidate = by_key.get(row["key"])
        if candidate:
            row.update(priority=candidate["priority"], candidate_reasons=candidate["reasons"],
                       estimated_monthly_savings_usd=candidate["estimated_monthly_savings_usd"],
                       savings_by_reason=candidate["savings_by_reason"])
    history = reports.read_json(HISTORY_FILE) or []
    spend = actual_glue_spend(aws, now)
    numbers = executive_numbers(rows, candidates, history, spend, now)
    snapshot = {"generated_at": now.isoformat(), "jobs_by_status": numbers["jobs"]["by_status"],
                "monthly_projection_usd": numbers["spend"]["estimated_monthly_usd"],
                "job_keys": sorted(j["key"] for j in rows if j["status"] != "deleted")}
    summary = executive_summary_md(rows, candidates, history, spend, now)
    files = {
        "executive_summary.md": summary,
        "executive.json": executive_json(rows, candidates, history, spend, now),
        "dashboard.html": dashboard_html(rows, candidates, history, spend, now),
        HISTORY_FILE: json.dumps((history + [snapshot])[-HISTORY_LIMIT:]),
    }
    return dg.Output(files, metadata={
        "summary": dg.MetadataValue.md(summary),
        "estimated_monthly_usd": numbers["spend"]["estimated_monthly_usd"],
        "savings_identified_usd": numbers["savings"]["total_monthly_usd"],
    })
