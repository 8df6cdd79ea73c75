"""Executive summary and JSON: each number equals what the test computes from the rows."""

from __future__ import annotations

import json

import pytest

from glue_inventory.reports import executive
from glue_inventory.reports.dashboard import dashboard_html
from glue_inventory_tests.reports.fleet import GENERATED_AT, XSS_NAME, candidates, cost_explorer, fleet, history


def executive_json(*inputs) -> str:
    """executive.json of (jobs, candidates, history, Cost Explorer spend, generated at)."""
    return executive.executive_json(executive.executive_numbers(executive.ReportInputs(*inputs)))


def executive_summary_md(*inputs) -> str:
    return executive.executive_summary_md(executive.executive_numbers(executive.ReportInputs(*inputs)))


def usd(amount: float) -> str:
    return f"-${-round(amount, 2):,.2f}" if round(amount, 2) < 0 else f"${round(amount, 2):,.2f}"


@pytest.fixture
def inputs() -> tuple:
    jobs = fleet()
    return jobs, candidates(jobs), history(), cost_explorer(), GENERATED_AT


def test_json_numbers_equal_the_rows(inputs: tuple) -> None:
    jobs, cands, _, ce, _ = inputs
    data = json.loads(executive_json(*inputs))
    assert data["schema_version"] == 2
    live = [j for j in jobs if j["status"] != "deleted"]
    assert data["jobs"]["total"] == len(jobs) and data["jobs"]["live"] == len(live)
    for status in {j["status"] for j in jobs}:
        members = [j for j in jobs if j["status"] == status]
        assert data["jobs"]["by_status"][status] == len(members)
        assert data["spend"]["by_status"][status] == round(sum(j["monthly_projection_usd"] for j in members), 2)
    estimated = round(sum(j["monthly_projection_usd"] for j in jobs), 2)
    assert data["spend"]["estimated_monthly_usd"] == estimated
    assert data["spend"]["actual_30d_usd"] == ce["actual_usd"]
    assert data["spend"]["gap_usd"] == round(ce["actual_usd"] - estimated, 2)
    parts = {b: round(sum(c["savings_by_basis"].get(b, 0) for c in cands), 2) for b in ("measured", "exact",
                                                                                      "rule_of_thumb")}
    assert data["savings"]["by_basis"] == parts
    # The headline is measured + exact; the rule of thumb is potential, apart.
    assert data["savings"]["total_monthly_usd"] == round(parts["measured"] + parts["exact"], 2) > 0
    assert data["savings"]["potential_monthly_usd"] == parts["rule_of_thumb"] > 0
    reasons = {r for c in cands for r in c["savings_by_reason"]}
    assert data["savings"]["by_reason"] == {
        r: round(sum(c["savings_by_reason"].get(r, 0) for c in cands), 2) for r in reasons
    }
    assert data["security"]["secret_arguments"] == sum(len(j["secret_arguments"]) for j in live)
    assert data["security"]["code_security_findings"] == sum(j["deep"]["security_findings"] for j in jobs if j["deep"])
    assert data["eol"]["jobs"] == sum(1 for j in live if j["eol_version"])
    assert data["eol"]["by_version"] == {"1.0": 1, "2.0": 1}


def test_two_rankings_show_each_actions_own_saving(inputs: tuple) -> None:
    rankings = json.loads(executive_json(*inputs))["rankings"]
    savings = [(a["job"], a["action"], a["est_monthly_savings_usd"]) for a in rankings["largest_savings"]]
    # The deep-analysed job's action carries its job report's figure; the other its reason's estimate.
    assert savings == [("daily_sales_etl", "Switch to FLEX", 106.2),
                       ("flex|pipe*star_", "Right-size the high-cost job (a deep analysis measures what it needs)",
                        40.19),
                       (XSS_NAME, "Switch to FLEX", 5.0)]
    first = rankings["largest_savings"][0]
    assert (first["owner"], first["team"], first["cost_center"]) == ("ana", "data", "CC-100")
    assert first["report_path"] == "jobs/123456789012/us-east-1/daily_sales_etl.md"
    risks = [(a["job"], a["action"], a["priority"]) for a in rankings["highest_risks"]]
    assert risks == [
        ("never_started", "Move secrets from DefaultArguments to AWS Secrets Manager", "critical"),
        ("weekly report.v2", "Fix or stop the failing job: most recent runs fail", "high"),
        ("legacy_py2", "Upgrade to a supported Glue version", "medium"),
        ("team/x/nested", "Upgrade to a supported Glue version", "medium"),
        ("données-été ☃", "Delete or archive the unused job and its triggers", "low"),
    ]
    secret = rankings["highest_risks"][0]
    # No owner tag: the owner is missing, never the cost center in its place.
    assert (secret["owner"], secret["team"], secret["cost_center"]) == (None, None, "CC-3300")
    assert secret["est_monthly_savings_usd"] == 0.0


def test_rankings_are_capped_at_ten(inputs: tuple) -> None:
    jobs, cands, *_ = inputs
    many = [{**c, "key": f"{c['key']}#{i}", "score": c["score"] + i,
             "savings_by_reason": {r: 1.0 + i for r in c["reasons"]}} for i, c in enumerate(cands * 3)]
    rankings = json.loads(executive_json(jobs, many, [], None, GENERATED_AT))["rankings"]
    assert len(rankings["largest_savings"]) == len(rankings["highest_risks"]) == 10
    shown = [a["est_monthly_savings_usd"] for a in rankings["largest_savings"]]
    assert shown == sorted(shown, reverse=True)


def test_rankings_name_the_plan_of_each_action(inputs: tuple) -> None:
    jobs, cands, hist, ce, at = inputs
    plans = [{"key": "123456789012/us-east-1/never_started", "kind": "move_secrets", "plan_id": "rp-0123456789ab"}]
    numbers = executive.executive_numbers(executive.ReportInputs(jobs, cands, hist, ce, at, plans=plans))
    assert numbers["rankings"]["highest_risks"][0]["plan_id"] == "rp-0123456789ab"
    md = executive.executive_summary_md(numbers)
    assert "`rp-0123456789ab`" in md and "no owner tag" in md and "CC-3300" in md


def test_change_since_previous_inventory(inputs: tuple) -> None:
    jobs, _, hist, *_ = inputs
    change = json.loads(executive_json(*inputs))["change"]
    previous = max(hist, key=lambda s: s["generated_at"])
    before = set(previous["job_keys"])
    live = {j["key"] for j in jobs if j["status"] != "deleted"}
    assert change["previous_generated_at"] == previous["generated_at"]
    assert change["new"]["count"] == len(live - before) == 2
    assert change["deleted"]["count"] == len(before - live) == 2
    assert sorted(change["deleted"]["jobs"]) == ["gone_job", "retired_last_month"]
    # '...' last ran 30 days before the previous inventory (active then) and 37 days before now.
    assert change["newly_idle"] == {"count": 1, "jobs": ["..."]}
    assert change["monthly_projection_delta_usd"] == round(
        round(sum(j["monthly_projection_usd"] for j in jobs), 2) - previous["monthly_projection_usd"], 2
    )


def test_first_inventory_has_no_change_and_no_cost_explorer(inputs: tuple) -> None:
    jobs, cands, *_ = inputs
    data = json.loads(executive_json(jobs, cands, [], None, GENERATED_AT))
    assert data["change"] is None and data["spend"]["actual_30d_usd"] is None and data["spend"]["gap_usd"] is None
    assert len(data["trend"]) == 1
    md = executive_summary_md(jobs, cands, [], None, GENERATED_AT)
    assert "This is the first inventory" in md and "Cost Explorer not available" in md


def test_history_from_the_future_is_ignored(inputs: tuple) -> None:
    jobs, cands, hist, ce, _ = inputs
    later = [*hist, {"generated_at": "2027-01-01T00:00:00Z", "jobs_by_status": {}, "monthly_projection_usd": 1.0,
                     "job_keys": []}]  # fmt: skip
    data = json.loads(executive_json(jobs, cands, later, ce, GENERATED_AT))
    assert data["change"]["previous_generated_at"] == "2026-11-19T06:00:00Z"
    assert [p["generated_at"] for p in data["trend"]] == [
        "2026-10-26T06:00:00Z", "2026-11-19T06:00:00Z", GENERATED_AT,
    ]  # fmt: skip


def test_markdown_shows_the_same_numbers(inputs: tuple) -> None:
    jobs, cands, hist, ce, _ = inputs
    md = executive_summary_md(*inputs)
    estimated = round(sum(j["monthly_projection_usd"] for j in jobs), 2)
    gap = round(ce["actual_usd"] - estimated, 2)
    assert f"**Monthly spend (estimated from runs): {usd(estimated)}**" in md
    assert f"Cost Explorer {usd(ce['actual_usd'])}" in md and f"a gap of {usd(gap)}" in md
    identified = sum(c["savings_by_basis"].get(b, 0) for c in cands for b in ("measured", "exact"))
    potential = sum(c["savings_by_basis"].get("rule_of_thumb", 0) for c in cands)
    assert f"**Savings identified: {usd(identified)} per month**" in md
    assert f"Potential, not yet measured: {usd(potential)} per month" in md
    assert f"| **Total** | **{len(jobs)}** | **{usd(estimated)}** |" in md
    for status in {j["status"] for j in jobs}:
        members = [j for j in jobs if j["status"] == status]
        assert f"| {status} | {len(members)} | {usd(sum(j['monthly_projection_usd'] for j in members))} |" in md
    delta = round(estimated - hist[-1]["monthly_projection_usd"], 2)
    assert f"({'+' if delta >= 0 else ''}{usd(delta)})" in md
    assert "- New jobs: **2** (brand-new, shell-small)" in md
    assert "- Newly idle jobs: **1** (...)" in md
    for section in ("## Largest savings", "## Highest risks"):
        rows = [line for line in md.split(section)[1].split("\n## ")[0].splitlines() if line.startswith("| 1 |")]
        assert len(rows) == 1, section
    assert "<script>" not in md


def test_an_empty_inventory_renders_everything() -> None:
    from glue_inventory.reports import inventory_csv, inventory_json, inventory_summary_md

    assert json.loads(executive_json([], [], [], None, GENERATED_AT))["spend"]["estimated_monthly_usd"] == 0.0
    assert "No action needed." in executive_summary_md([], [], [], None, GENERATED_AT)
    assert "No candidates." in inventory_summary_md([], [], GENERATED_AT)
    assert json.loads(inventory_json([], GENERATED_AT))["jobs"] == []
    assert inventory_csv([]).count("\n") == 1
    assert '<script type="application/json" id="jobs-data">{"columns":' in dashboard_html(
        [], executive.executive_numbers(executive.ReportInputs([], [], [], None, GENERATED_AT)))
