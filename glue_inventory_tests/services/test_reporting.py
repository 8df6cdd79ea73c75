"""services.reporting and services.cost.tool_cost, called directly after a deep analysis: the executive report
counts the simulator's jobs, statuses and spend, shows the current list's savings and the deep analyses'
findings, keeps its history, and states what the inventory cost."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import UTC, datetime

import pytest

from glue_inventory.analysis.findings import is_security_finding
from glue_inventory.analysis.kpis import HEALTH_KPIS
from glue_inventory.aws.cloudwatch import MAX_DATUMS_PER_PUT
from glue_inventory.config import MetricsSettings
from glue_inventory.services.cost.tool_cost import ToolUsage, inventory_tool_cost
from glue_inventory.services.kpis import current_kpis
from glue_inventory.services.reporting import HISTORY_FILE, HISTORY_LIMIT, deep_summaries, executive_report
from glue_inventory.storage.candidates import current_candidates, current_totals
from glue_inventory.storage.jobs import read_jobs

EARLIER = {"glue:GetJobs": 2, "glue:GetJobRuns": 30, "cloudwatch:GetMetricData": 12}


@pytest.fixture(scope="module")
def report(inventory, deep):
    history = [{"generated_at": "2026-01-01T00:00:00+00:00", "job_keys": []}]
    return executive_report(inventory.engine, inventory.session_map(), history, datetime.now(UTC),
                            settings=inventory.settings)


def test_the_report_counts_the_simulators_jobs_statuses_and_spend(inventory, report):
    numbers = report.numbers
    assert numbers["jobs"]["total"] == numbers["jobs"]["live"] == len(inventory.truth)
    assert numbers["jobs"]["by_status"] == dict(Counter(t.status for t in inventory.truth.values()))
    assert numbers["spend"]["cost_30d_usd"] == pytest.approx(sum(t.cost_30d_usd for t in inventory.truth.values()),
                                                             abs=0.01)
    projected = math.fsum(job["metrics"]["monthly_projection_usd"] for job in read_jobs(inventory.engine).values())
    assert numbers["spend"]["estimated_monthly_usd"] == pytest.approx(projected, abs=0.01)


def test_the_reports_savings_and_priorities_are_the_current_lists(inventory, deep, report):
    current = current_candidates(inventory.engine)
    assert len(current) == len(deep.rescored.rows)
    savings = report.numbers["savings"]
    count, identified, potential = current_totals(inventory.engine)
    assert savings["candidates"] == count == len(current)
    assert savings["total_monthly_usd"] == pytest.approx(identified, abs=0.01)
    assert savings["potential_monthly_usd"] == pytest.approx(potential, abs=0.01)
    assert identified == pytest.approx(sum(row["savings_identified_usd"] for row in deep.rescored.rows))
    assert report.numbers["priorities"] == dict(Counter(row["priority"] for row in current))


def test_each_deep_analysis_is_summarised_with_its_security_findings(inventory, deep):
    summaries = deep_summaries(inventory.engine)
    assert set(summaries) == {job["data_job_id"] for job in deep.jobs.values()}
    for key, job in deep.jobs.items():
        summary = summaries[job["data_job_id"]]
        assert summary["recommendations"] == deep.verdicts[key]["recommendations"]
        assert summary["security_findings"] == sum(1 for f in deep.code[key]["findings"] if is_security_finding(f))
    assert any(summary["security_findings"] for summary in summaries.values())


def test_the_history_gains_this_inventory_and_keeps_at_most_its_limit(inventory, report):
    history = json.loads(report.files[HISTORY_FILE])
    assert len(history) == 2
    assert history[-1]["job_keys"] == sorted(inventory.truth)
    assert history[-1]["savings_identified_usd"] == report.numbers["savings"]["total_monthly_usd"]
    full = [{"generated_at": f"2025-01-01T00:00:{i % 60:02d}+00:00", "job_keys": []} for i in range(HISTORY_LIMIT)]
    trimmed = json.loads(executive_report(inventory.engine, inventory.session_map(), full, datetime.now(UTC),
                                          settings=inventory.settings).files[HISTORY_FILE])
    assert len(trimmed) == HISTORY_LIMIT and trimmed[:-1] == full[1:]
    assert set(report.files) == {"executive_summary.md", "executive.json", "dashboard.html", HISTORY_FILE}
    assert json.loads(report.files["executive.json"])["jobs"]["live"] == len(inventory.truth)


def test_the_tool_cost_counts_the_kpis_it_will_publish_only_when_metrics_are_on(inventory):
    now = datetime.now(UTC)
    usage = ToolUsage(earlier=EARLIER, own=lambda: {"ce:GetCostAndUsage": 1}, cur_bytes=0, inventories_per_month=30)
    off = inventory_tool_cost(inventory.engine, inventory.settings, usage, now)
    assert off["custom_metrics"] == 0 and off["calls"].get("putmetricdata_requests", 0) == 0
    metrics = MetricsSettings(cloudwatch_namespace="GlueInventoryServices", dimensions=["account", "account_team"])
    on = inventory_tool_cost(inventory.engine, inventory.settings.model_copy(update={"metrics": metrics}), usage, now)
    kpis = len(current_kpis(inventory.engine, now, metrics.dimensions))
    assert kpis > 0
    assert on["custom_metrics"] == kpis + len(HEALTH_KPIS)
    assert on["calls"]["putmetricdata_requests"] == math.ceil(kpis / MAX_DATUMS_PER_PUT)
    assert on["monthly_usd"] > off["monthly_usd"]
    reported = executive_report(inventory.engine, inventory.session_map(), None, now, settings=inventory.settings,
                                usage=usage).numbers["tool_cost"]
    assert reported == off
