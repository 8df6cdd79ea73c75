"""The per-job report: what it is, what it costs, what to do first, evidence with line numbers."""

from __future__ import annotations

import re

import pytest

from glue_inventory.analysis.cost.rightsizing import HEAP_USAGE, NEEDED_EXECUTORS, recommend_capacity
from glue_inventory.analysis.spark.eventlog import decompressed, events
from glue_inventory.analysis.spark.findings import run_findings
from glue_inventory.analysis.spark.summary import WANTED, RunListener, summarize
from glue_inventory.analysis.types import JobSpec
from glue_inventory.config import Pricing
from glue_inventory.reports.job_report import job_report_md
from glue_inventory.simulate.event_logs import AppProfile, SimStage, encode, event_lines
from glue_inventory_tests.reports.fleet import XSS_NAME, deep_result, fleet


@pytest.fixture
def job() -> dict:
    return fleet()[0]


def section(md: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", md, re.S | re.M)
    assert match, f"no section {title!r}"
    return match.group(1)


def test_report_leads_with_cost_and_the_first_actions(job: dict) -> None:
    md = job_report_md(job, deep_result())
    assert md.startswith("# Glue job: daily_sales_etl\n")
    assert "It cost **$312.35** over the last 30 days" in md
    actions = section(md, "What to do first")
    lines = [line for line in actions.splitlines() if re.match(r"\d+\. ", line)]
    # The critical security fix comes before the bigger but medium-severity saving.
    assert lines[0].startswith("1. **Rotate the leaked AWS key")
    assert lines[1].startswith("2. **Right-size to 10 × G.1X**") and "saves $234.57/month" in lines[1]
    # The job's best set of actions, not the sum of the recommendations' own savings (they overlap).
    assert "Recommendations together: $106.20 per month ($0.00 measured, $106.20 exact, $0.00 rule of thumb)" \
        in actions


def test_findings_carry_line_numbers_and_evidence(job: dict) -> None:
    findings = section(job_report_md(job, deep_result()), "Code findings")
    assert "3 findings: 1 critical, 1 high, 1 low." in findings
    assert "| critical | hardcoded-secret | 12 | AWS secret key in a string literal |" in findings
    assert "| low | W0611 | 3 | unused import os |" in findings
    assert "Line 40, collect-to-driver:" in findings
    # The evidence holds a ``` run, so its fence is longer and cannot be closed early.
    assert "````\nrows = df.collect()  # ``` | <b>not bold</b>\n````" in findings


def test_rightsizing_table_and_saving(job: dict) -> None:
    part = section(job_report_md(job, deep_result()), "Right-sizing")
    assert "| Current | G.2X | 20 | 40.0 |" in part
    assert "| Recommended | G.1X | 10 | 10.0 |" in part
    assert "Implied saving: $234.57 per month." in part
    assert "- peak executors needed: 6" in part
    assert "- peak JVM heap usage: 0.31" in part


def test_report_of_a_real_recommendation(job: dict) -> None:
    spec = JobSpec(name="etl", job_type="glueetl", worker_type="G.2X", number_of_workers=20, glue_version="4.0",
                   default_arguments={"--enable-metrics": "true"})
    runs = {"jr_1": {NEEDED_EXECUTORS: {"max": 3.0, "avg": 2.0, "datapoints": 4},
                     HEAP_USAGE: {"max": 0.3, "avg": 0.2, "datapoints": 4}}}
    metrics = recommend_capacity(spec, runs, region="us-east-1", pricing=Pricing(), monthly_dpu_hours=100.0,
                                 enable_metrics=True)
    deep = deep_result() | {"metrics": metrics}
    part = section(job_report_md(job, deep), "Right-sizing")
    assert f"| Current | G.2X | 20 | {metrics['current']['dpu']} |" in part
    assert f"| Recommended | {metrics['recommended']['worker_type']} |" in part
    assert f"Implied saving: ${metrics['estimated_monthly_savings_usd']:,.2f} per month." in part


def test_metrics_disabled_says_how_to_enable(job: dict) -> None:
    spec = JobSpec(name="etl", job_type="glueetl", worker_type="G.1X", number_of_workers=10, glue_version="4.0")
    metrics = recommend_capacity(spec, {}, region="us-east-1", pricing=Pricing(), monthly_dpu_hours=10.0,
                                 enable_metrics=False)
    deep = deep_result() | {"metrics": metrics}
    part = section(job_report_md(job, deep), "Right-sizing")
    assert "`--enable-metrics`" in part and "Current" not in part


@pytest.mark.parametrize(
    ("ai", "expected"),
    [
        ({"status": "skipped", "reason": "no OPENAI_API_KEY set"}, "The AI review was skipped: no OPENAI_API_KEY set."),
        ({"status": "error", "error": "HTTP 500 from server"}, "The AI review failed: HTTP 500 from server."),
        ({"status": "ok", "summary": "Mostly fine.", "overall_risk": "medium",
          "recommendations": [{"title": "Cache the frame", "severity": "low", "detail": "read twice"}, "Add tests"]},
         "Overall risk: **medium**.\n\nMostly fine.\n\n- **Cache the frame** (low): read twice\n- **Add tests**\n"),
    ],
)  # fmt: skip
def test_ai_review_states(job: dict, ai: dict, expected: str) -> None:
    deep = {**deep_result(), "ai_analysis": ai}
    assert expected in section(job_report_md(job, deep), "AI review")


def test_user_text_cannot_inject_markdown_or_html() -> None:
    job = fleet()[1]
    deep = deep_result()
    deep["code_analysis"]["findings"][0]["message"] = "bad | <img src=x onerror=alert(1)> [x](javascript:1)"
    md = job_report_md(job, deep)
    # Code spans and fenced blocks show their text literally; everywhere else it must be escaped.
    outside_code = md.replace(f"`{job['key']}`", "").replace("<b>not bold</b>", "")
    assert XSS_NAME not in outside_code and not re.search(r"(?<!\\)<", outside_code)
    assert "# Glue job: \\<script\\>alert(1)\\</script\\>" in md
    assert "| critical | hardcoded-secret | 12 | bad \\| \\<img src=x onerror=alert(1)\\> \\[x\\](javascript:1) |" in md


def test_missing_optional_fields_do_not_break_the_report() -> None:
    md = job_report_md({"key": "1/r/x", "name": "x", "status": "new"}, {})
    assert "No recommendation" in md and "No CloudWatch metrics analysed." in md
    assert "No findings in the job script." in md and "The AI review was skipped" in md


def test_findings_are_capped_with_a_note(job: dict) -> None:
    deep = deep_result()
    deep["code_analysis"]["findings"] = [
        {"rule_id": "R1", "severity": "low", "line": i, "message": "m", "source": "x"} for i in range(80)
    ]
    part = section(job_report_md(job, deep), "Code findings")
    assert "Showing the 50 most severe of 80 findings." in part
    assert part.count("| low | R1 |") == 50


def _event_logs() -> dict:
    profile = AppProfile(executors=9, cores=4, seed=2, stages=(
        SimStage(0, 0, 12, 20_000, name="scan"),
        SimStage(1, 0, 12, 20_000, parents=(0,), skew=10.0, disk_spill_bytes=50 << 20, name="join")))
    data = encode(list(event_lines(profile, 1_700_000_000_000, "spark-application-1700000000000")), "zstd")
    latest = summarize(RunListener().feed(events(decompressed([data], "zstd"), WANTED)))
    read = {"files": 1, "rolled": False, "codec": "zstd", "bytes_read": len(data), "cut_at_bytes": 512 << 20}
    return {"status": "ok", "path": "s3://logs/sparkHistoryLogs/", "latest": latest, "latest_run_id": "jr_1",
            "findings": run_findings(latest, 100.0),
            "runs": [{"run_id": "jr_1", "location": "s3://logs/sparkHistoryLogs/spark-application-1700000000000.zstd",
                      "source": "cache", "read": read}]}


def test_the_event_log_section_shows_utilisation_critical_path_predictions_and_stage_findings(job: dict) -> None:
    logs = _event_logs()
    part = section(job_report_md(job, deep_result() | {"event_logs": logs}), "Spark event logs")
    latest = logs["latest"]
    assert f"| Executor utilisation | {latest['utilisation']:.0%} |" in part
    assert "| Executors × cores | 9 × 4 |" in part and "| Critical path |" in part
    assert "| 9 | 10 | " in part and "| +0% | yes |" in part  # the run's own count, 9 executors on 10 workers
    assert "| 1 | join | 12 |" in part and "| skewed-stage | stage 1 (join) waits" in part
    assert "cut at 512 MiB (deep_analysis.event_log_max_bytes)" in part and "from the cache (same ETag)" in part


def test_without_event_logs_looked_at_there_is_no_section(job: dict) -> None:
    assert "## Spark event logs" not in job_report_md(job, deep_result())
    missing = {"status": "not_enabled", "findings": [
        {"rule_id": "event-log-missing", "severity": "info", "message": "the job writes no Spark event log"}]}
    part = section(job_report_md(job, deep_result() | {"event_logs": missing}), "Spark event logs")
    assert "No event log could be used." in part and "| info | event-log-missing |" in part
