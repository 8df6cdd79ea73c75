"""Compile a job's deep-analysis inputs into recommendations with savings, an `analysis_runs` row and a report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime

from glue_inventory.analysis.actions import MEASURED_BY_DEEP_ANALYSIS, REASON_ACTIONS
from glue_inventory.analysis.candidates import reason_savings
from glue_inventory.config import Settings
from glue_inventory.reports.job_report import job_report_md
from glue_inventory.reports.paths import job_report_relpath
from glue_inventory.reports.rows import job_report_rows
from glue_inventory.storage import repository

SEVERE = ("critical", "high")


def _recommendation(title, category, severity, savings, effort, source) -> dict:
    return {"title": title, "category": category, "severity": severity, "est_monthly_savings_usd": savings,
            "effort": effort, "source": source}


def recommendations_for(job: Mapping, cloudwatch: Mapping, code: Mapping, ai: Mapping, settings: Settings) -> list:
    metrics = job.get("metrics") or {}
    recs = []
    for reason in job.get("candidate_reasons") or []:
        if reason in REASON_ACTIONS and reason not in MEASURED_BY_DEEP_ANALYSIS:
            action = REASON_ACTIONS[reason]
            recs.append(_recommendation(action.title, action.category, action.severity,
                                        reason_savings(reason, metrics, settings), action.effort, "inventory")
                        | {"reason": reason, "plan_kind": action.plan_kind})
    sizing = cloudwatch.get("rightsizing") or {}
    if sizing.get("status") == "over_provisioned" and sizing.get("recommended"):
        target = sizing["recommended"]
        size = (f"{target['number_of_workers']} × {target['worker_type']}"
                if target.get("number_of_workers") and target.get("worker_type")
                else f"MaxCapacity {target.get('max_capacity') or target.get('dpu')} DPU")
        recs.append(_recommendation(
            f"Right-size to {size}", "cost", "high",
            sizing.get("estimated_monthly_savings_usd", 0.0), "low", "cloudwatch") | {"plan_kind": "rightsize"})
    for finding in sizing.get("findings") or []:
        if finding.get("rule_id") in {"metrics-disabled", "enable-auto-scaling"}:
            recs.append(_recommendation(finding["message"], "performance", finding.get("severity", "low"), 0.0,
                                        "low", "cloudwatch"))
    by_rule: dict[str, list] = defaultdict(list)
    for finding in code.get("findings") or []:
        if finding.get("severity") in SEVERE:
            by_rule[finding["rule_id"]].append(finding)
    for rule_id, findings in sorted(by_rule.items()):
        lines = [f["line"] for f in findings if f.get("line")]
        where = f" (lines {', '.join(map(str, lines[:5]))})" if lines else ""
        recs.append(_recommendation(f"{findings[0]['message']}{where}", "security" if "secret" in rule_id
                                    or "credential" in rule_id else "reliability",
                                    findings[0]["severity"], 0.0, "medium", findings[0].get("source", "code")))
    if ai.get("status") == "ok":
        for rec in ai.get("recommendations") or []:
            recs.append({**rec, "source": "ai"})
    return recs


# Characters of a script line quoted as evidence: enough to recognise it, short enough for a table.
SNIPPET_CHARS = 200


def with_snippets(code: Mapping, script_text: str | None) -> dict:
    """The code analysis with each finding's (already redacted) script line attached as evidence."""
    lines = (script_text or "").splitlines()
    findings = []
    for finding in code.get("findings") or []:
        line = finding.get("line")
        snippet = lines[line - 1].strip()[:SNIPPET_CHARS] if isinstance(line, int) and 0 < line <= len(lines) else None
        findings.append({**finding, "snippet": snippet} if snippet else dict(finding))
    return {**code, "findings": findings}


def compile_deep_analysis(jobs: Mapping[str, Mapping], scripts: Mapping, code: Mapping, cloudwatch: Mapping,
                          ai: Mapping, settings: Settings) -> tuple[dict[str, dict], dict[str, str]]:
    """analysis_runs rows (deep) per job and the Markdown report files they reference."""
    now = datetime.now(UTC)
    rows = {row["key"]: row for row in job_report_rows(jobs, [], now)}
    compiled, files = {}, {}
    for key, job in jobs.items():
        row = rows[key] | {"candidate_reasons": job.get("candidate_reasons") or [], "priority": job.get("priority")}
        row["savings_by_reason"] = {r: reason_savings(r, job.get("metrics") or {}, settings)
                                    for r in row["candidate_reasons"]}
        script = scripts.get(key) or {}
        watch, review = cloudwatch.get(key) or {}, ai.get(key) or {}
        findings = with_snippets(code.get(key) or {}, script.get("text"))
        recs = recommendations_for(job | {"candidate_reasons": row["candidate_reasons"]}, watch, findings, review,
                                   settings)
        cost = {"monthly_projection_usd": (job.get("metrics") or {}).get("monthly_projection_usd", 0.0),
                "estimated_monthly_savings_usd": max([r["est_monthly_savings_usd"] or 0 for r in recs] or [0.0]),
                "rightsizing": watch.get("rightsizing")}
        deep = {"metrics": watch.get("rightsizing"), "code_analysis": findings, "ai_analysis": review,
                "cost_analysis": cost, "recommendations": recs}
        path = job_report_relpath(key)
        files[path] = job_report_md(row, deep)
        compiled[key] = {
            "data_job_id": job["data_job_id"], "analysis_type": "deep", "status": "succeeded",
            "completed_at": now, "metrics": {"cloudwatch": watch, "script": {k: script.get(k) for k in
                                             ("location", "sha256", "size_bytes", "kind")}},
            "code_analysis": findings, "ai_analysis": review, "cost_analysis": cost, "recommendations": recs,
            "report_path": path,
        }
    return compiled, files


def record_deep_analyses(bind: repository.Bind, jobs: Mapping[str, Mapping], scripts: Mapping, code: Mapping,
                         cloudwatch: Mapping, ai: Mapping, settings: Settings,
                         dagster_run_id: str) -> tuple[dict[str, dict], dict[str, str]]:
    """Compile each job's deep analysis, store it in `analysis_runs` (one transaction) and return
    (per job: report path and recommendations, the report files to write)."""
    compiled, files = compile_deep_analysis(jobs, scripts, code, cloudwatch, ai, settings)
    repository.insert_analysis_runs(bind, [
        {k: v for k, v in row.items() if k != "report_path"} | {"dagster_run_id": dagster_run_id}
        for row in compiled.values()])
    return {key: {"report": row["report_path"], "recommendations": row["recommendations"]}
            for key, row in compiled.items()}, files
