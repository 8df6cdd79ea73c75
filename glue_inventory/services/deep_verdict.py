"""Compile a job's deep-analysis inputs into recommendations with savings, an `analysis_runs` row and a report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from glue_inventory.analysis.actions.wording import MEASURED_BY_DEEP_ANALYSIS, REASON_ACTIONS
from glue_inventory.analysis.candidates import CODE_FINDINGS, projection, reason_savings, rescore
from glue_inventory.analysis.code.rules_driver import PYTHON_SHELL_DPU
from glue_inventory.analysis.cost.savings import MEASURED, RULE_OF_THUMB, basis_of
from glue_inventory.analysis.deep_selection import OPT_IN_LANE, lane_label, opt_in
from glue_inventory.analysis.evidence import evidence_of, python_shell_saving
from glue_inventory.analysis.findings import SEVERE, is_security_rule
from glue_inventory.config import Settings
from glue_inventory.reports.job_report import job_report_md
from glue_inventory.reports.paths import job_report_relpath
from glue_inventory.reports.rows import job_report_rows, savings_fields
from glue_inventory.services.event_logs import event_log_recommendations, with_event_log_evidence
from glue_inventory.storage import repository
from glue_inventory.storage.analyses import window_runs
from glue_inventory.storage.candidates import current_lanes


def _recommendation(title, category, severity, savings, effort, source, basis=None) -> dict:
    """One recommendation; `basis` says what its saving rests on (analysis.savings), None when it saves nothing."""
    return {"title": title, "category": category, "severity": severity, "est_monthly_savings_usd": savings,
            "effort": effort, "source": source, "savings_basis": basis if savings else None}


def recommendations_for(job: Mapping, cloudwatch: Mapping, code: Mapping, ai: Mapping, settings: Settings) -> list:
    metrics = job.get("metrics") or {}
    recs = []
    for reason in job.get("candidate_reasons") or []:
        if reason in REASON_ACTIONS and reason not in MEASURED_BY_DEEP_ANALYSIS:
            action = REASON_ACTIONS[reason]
            recs.append(_recommendation(action.title, action.category, action.severity,
                                        reason_savings(reason, metrics, settings), action.effort, "inventory",
                                        basis_of(reason)) | {"reason": reason, "plan_kind": action.plan_kind})
    sizing = cloudwatch.get("rightsizing") or {}
    if sizing.get("status") == "over_provisioned" and sizing.get("recommended"):
        target = sizing["recommended"]
        size = (f"{target['number_of_workers']} × {target['worker_type']}"
                if target.get("number_of_workers") and target.get("worker_type")
                else f"MaxCapacity {target.get('max_capacity') or target.get('dpu')} DPU")
        recs.append(_recommendation(
            f"Right-size to {size}", "cost", "high",
            sizing.get("estimated_monthly_savings_usd", 0.0), "low", sizing.get("source", "cloudwatch"), MEASURED)
            | {"plan_kind": "rightsize"})
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
        recs.append(_recommendation(f"{findings[0]['message']}{where}", "security" if is_security_rule(rule_id)
                                    else "reliability",
                                    findings[0]["severity"], 0.0, "medium", findings[0].get("source", "code")))
    if ai.get("status") == "ok":
        # The model's savings are its judgement, measured by nothing: a rule of thumb.
        for rec in ai.get("recommendations") or []:
            recs.append({**rec, "source": "ai",
                         "savings_basis": RULE_OF_THUMB if rec.get("est_monthly_savings_usd") else None})
    return recs


# What the Dagster UI shows of each job's verdict besides its report and recommendations.
VERDICT_FIELDS = ("priority", "chosen_by", "deep_lane", "deep_rank", "estimated_monthly_savings_usd",
                  "savings_by_basis", "savings_identified_usd", "savings_potential_usd")
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


def _python_shell(job: Mapping, findings: list[Mapping], runs: list[tuple[int | None, float]],
                  settings: Settings) -> tuple[float | None, dict | None]:
    """(monthly saving, recommendation) of running a Spark job with no Spark work as Python shell."""
    finding = next((f for f in findings if f.get("rule_id") == "spark-job-without-spark-work"), None)
    if finding is None:
        return None, None
    dpu = float(finding.get("python_shell_dpu") or PYTHON_SHELL_DPU)
    # Python shell has no FLEX class: it is billed at the STANDARD price (AWS Glue pricing page).
    saving = python_shell_saving(runs, dpu, settings.pricing.per_dpu_hour(job["region"], "STANDARD"))
    title = (f"Run as a Python shell job ({dpu:g} DPU): the script does no Spark work "
             f"(line {finding.get('line')}); saving measured on {len(runs)} runs of the last 30 days")
    return saving, _recommendation(title, "cost", "medium", saving, "medium", "ast", MEASURED)


def chosen_by(jobs: Mapping[str, Mapping], lanes: Mapping[int, tuple[str, int]]) -> dict[str, dict]:
    """key → the deep-analysis lane and rank that chose each job ({} for a job analysed by hand)."""
    chosen = {}
    for key, job in jobs.items():
        lane, rank = lanes.get(job["data_job_id"]) or ((OPT_IN_LANE, None) if opt_in(job.get("tags")) else (None, None))
        chosen[key] = {"deep_lane": lane, "deep_rank": rank,
                       "chosen_by": lane_label(lane, rank) or "not chosen by a lane: materialized by hand"}
    return chosen


def compile_deep_analysis(jobs: Mapping[str, Mapping], scripts: Mapping, code: Mapping, cloudwatch: Mapping,
                          ai: Mapping, settings: Settings, runs: Mapping[int, list] | None = None,
                          lanes: Mapping[int, tuple[str, int]] | None = None,
                          event_logs: Mapping | None = None) -> tuple[dict[str, dict], dict[str, str]]:
    """analysis_runs rows (deep) per job and the Markdown report files they reference; each row's
    `candidate` holds the job's figures rescored from the evidence (analysis.candidates.rescore). `lanes`:
    data_job_id → the lane and rank that chose the job (storage.candidates.current_lanes); `event_logs`: key →
    the job's event-log evidence (services.event_logs), whose right-sizing replaces CloudWatch's."""
    why = chosen_by(jobs, lanes or {})
    now = datetime.now(UTC)
    rows = {row["key"]: row for row in job_report_rows(jobs, [], now)}
    compiled, files = {}, {}
    for key, job in jobs.items():
        metrics = job.get("metrics") or {}
        reasons = [r for r in job.get("candidate_reasons") or [] if r != CODE_FINDINGS]
        script = scripts.get(key) or {}
        watch, review = cloudwatch.get(key) or {}, ai.get(key) or {}
        logs = (event_logs or {}).get(key) or {}
        sized = with_event_log_evidence(watch, logs)  # the right-sizing to use in CloudWatch's place
        findings = with_snippets(code.get(key) or {}, script.get("text"))
        shell_saving, shell_rec = _python_shell(job, findings["findings"], (runs or {}).get(job["data_job_id"], []),
                                                settings)
        if shell_saving is not None:
            findings["findings"] = [f | {"est_monthly_savings_usd": shell_saving}
                                    if f.get("rule_id") == "spark-job-without-spark-work" else f
                                    for f in findings["findings"]]
        evidence = evidence_of(findings["findings"], sized.get("rightsizing"), shell_saving)
        evidence = replace(evidence, measured_savings=evidence.measured_savings | logs.get("measured_savings", {}))
        candidate = rescore(key, reasons, {r: reason_savings(r, metrics, settings) for r in reasons},
                            projection(metrics), evidence)
        row = rows[key] | {"candidate_reasons": candidate.reasons,
                           "priority": candidate.priority if candidate.reasons else None,
                           "savings_by_reason": candidate.savings_by_reason,
                           "estimated_monthly_savings_usd": candidate.estimated_monthly_savings_usd,
                           "savings_basis": candidate.savings_basis, **savings_fields(candidate.savings_by_basis),
                           **why[key]}
        recs = recommendations_for({**job, "candidate_reasons": reasons}, sized, findings, review, settings)
        recs += [shell_rec] if shell_rec else []
        recs += event_log_recommendations(logs)
        cost = {"monthly_projection_usd": metrics.get("monthly_projection_usd", 0.0),
                "estimated_monthly_savings_usd": candidate.estimated_monthly_savings_usd,
                "savings_basis": candidate.savings_basis, **savings_fields(candidate.savings_by_basis),
                "score": candidate.score,
                "priority": row["priority"], "rightsizing": sized.get("rightsizing"),
                "evidence": evidence.to_dict(), **why[key]}
        deep = {"metrics": sized.get("rightsizing"), "code_analysis": findings, "ai_analysis": review,
                "cost_analysis": cost, "recommendations": recs, "event_logs": logs}
        path = job_report_relpath(key)
        files[path] = job_report_md(row, deep)
        compiled[key] = {
            "data_job_id": job["data_job_id"], "analysis_type": "deep", "status": "succeeded",
            "completed_at": now, "metrics": {"cloudwatch": watch, "event_logs": logs,
                                             "script": {k: script.get(k) for k in
                                                        ("location", "sha256", "size_bytes", "kind")}},
            "code_analysis": findings, "ai_analysis": review, "cost_analysis": cost, "recommendations": recs,
            "report_path": path, "candidate": candidate,
        }
    return compiled, files


def record_deep_analyses(bind: repository.Bind, jobs: Mapping[str, Mapping], scripts: Mapping, code: Mapping,
                         cloudwatch: Mapping, ai: Mapping, settings: Settings, dagster_run_id: str,
                         event_logs: Mapping | None = None) -> tuple[dict[str, dict], dict[str, str]]:
    """Compile each job's deep analysis, store it in `analysis_runs` (one transaction: its evidence, which the
    candidates asset scores) and return (per job: report path, recommendations, priority; the job reports to
    write)."""
    now = datetime.now(UTC)
    since = now - timedelta(days=settings.thresholds.window_days)
    runs = window_runs(bind, [job["data_job_id"] for job in jobs.values()], since)
    compiled, files = compile_deep_analysis(jobs, scripts, code, cloudwatch, ai, settings, runs, current_lanes(bind),
                                            event_logs)
    repository.insert_analysis_runs(bind, [
        {k: v for k, v in row.items() if k not in ("report_path", "candidate")} | {"dagster_run_id": dagster_run_id}
        for row in compiled.values()])
    return {key: {"report": row["report_path"], "recommendations": row["recommendations"],
                  **{name: row["cost_analysis"][name] for name in VERDICT_FIELDS}}
            for key, row in compiled.items()}, files
