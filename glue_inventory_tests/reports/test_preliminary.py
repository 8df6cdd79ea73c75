"""Preliminary reports: every total equals the sum of the hand-built rows; CSV round-trips."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from glue_inventory.reports.preliminary import (
    candidates_csv,
    candidates_json,
    inventory_csv,
    inventory_json,
    inventory_summary_md,
)
from glue_inventory_tests.reports.fleet import GENERATED_AT, XSS_NAME, candidates, fleet


def usd(amount: float) -> str:
    return f"${round(amount, 2):,.2f}"


@pytest.fixture
def jobs() -> list[dict]:
    return fleet()


def test_inventory_json_keeps_every_job_with_money_in_cents(jobs: list[dict]) -> None:
    data = json.loads(inventory_json(jobs, GENERATED_AT))
    assert data["schema_version"] == 1 and data["generated_at"] == GENERATED_AT
    assert data["job_count"] == 12 == len(data["jobs"])
    by_key = {row["key"]: row for row in data["jobs"]}
    for job in jobs:
        out = by_key[job["key"]]
        assert out["name"] == job["name"] and out["tags"] == job["tags"]
        assert out["cost_30d_usd"] == round(job["cost_30d_usd"], 2)
        assert out["savings_by_reason"] == {r: round(v, 2) for r, v in job["savings_by_reason"].items()}
    assert round(sum(r["cost_30d_usd"] for r in data["jobs"]), 2) == pytest.approx(
        round(sum(j["cost_30d_usd"] for j in jobs), 2), abs=0.01 * len(jobs)
    )
    assert by_key[jobs[0]["key"]]["deep"]["recommendations"][0]["est_monthly_savings_usd"] == 106.2


def test_inventory_csv_round_trips(jobs: list[dict]) -> None:
    rows = list(csv.DictReader(io.StringIO(inventory_csv(jobs))))
    assert len(rows) == len(jobs)
    by_key = {row["key"]: row for row in rows}
    for job in jobs:
        row = by_key[job["key"]]
        assert row["name"] == job["name"]
        assert json.loads(row["tags"]) == job["tags"]
        assert row["missing_tags"].split(";") == (job["missing_tags"] or [""])
        assert row["candidate_reasons"].split(";") == (job["candidate_reasons"] or [""])
        assert row["secret_arguments"].split(";") == (job["secret_arguments"] or [""])
        assert float(row["monthly_projection_usd"]) == round(job["monthly_projection_usd"], 2)
        assert row["eol_version"] == ("true" if job["eol_version"] else "false")
        for field in ("owner", "team", "cost_center"):
            assert row[field] == (job[field] or ""), field
        assert row["last_run_at"] == (job["last_run_at"] or "")
        days = job["days_since_last_run"]
        assert row["days_since_last_run"] == ("" if days is None else str(days))
        for reason, amount in job["savings_by_reason"].items():
            assert float(row[f"savings_{reason}_usd"]) == round(amount, 2)
    assert "deep" not in rows[0]


def test_candidates_json_and_csv_rank_by_score(jobs: list[dict]) -> None:
    cands = candidates(jobs)
    data = json.loads(candidates_json(cands, GENERATED_AT))
    scores = [c["score"] for c in data["candidates"]]
    assert scores == sorted(scores, reverse=True) and data["candidate_count"] == len(cands)
    rows = list(csv.DictReader(io.StringIO(candidates_csv(cands))))
    assert [r["name"] for r in rows] == [c["name"] for c in data["candidates"]]
    assert rows[0]["reasons"] == "high_cost;flex_eligible"
    assert round(sum(float(r["estimated_monthly_savings_usd"]) for r in rows), 2) == pytest.approx(
        round(sum(c["estimated_monthly_savings_usd"] for c in cands), 2), abs=0.02
    )


def test_summary_totals_equal_the_rows(jobs: list[dict]) -> None:
    cands = candidates(jobs)
    md = inventory_summary_md(jobs, cands, GENERATED_AT)
    total = sum(j["monthly_projection_usd"] for j in jobs)
    assert f"| **Total** | **{len(jobs)}** | **{usd(sum(j['cost_30d_usd'] for j in jobs))}** | **{usd(total)}** |" in md
    for status in {j["status"] for j in jobs}:
        members = [j for j in jobs if j["status"] == status]
        cost = usd(sum(j["cost_30d_usd"] for j in members))
        spend = usd(sum(j["monthly_projection_usd"] for j in members))
        assert f"| {status} | {len(members)} | {cost} | {spend} |" in md
    live = [j for j in jobs if j["status"] != "deleted"]
    assert f"end-of-life Glue version: **{sum(1 for j in live if j['eol_version'])}**" in md
    assert f"missing required tags: **{sum(1 for j in live if j['missing_tags'])}**" in md
    assert f"secret-looking arguments: **{sum(1 for j in live if j['secret_arguments'])}**" in md
    identified = sum(c["savings_by_basis"].get(b, 0) for c in cands for b in ("measured", "exact"))
    potential = sum(c["savings_by_basis"].get("rule_of_thumb", 0) for c in cands)
    assert f"Savings identified over all candidates: **{usd(identified)} per month**" in md
    assert f"Potential, not yet measured: {usd(potential)} per month" in md
    flex = sum(c["savings_by_reason"].get("flex_eligible", 0) for c in cands)
    assert f"| flex_eligible | exact | {usd(flex)} |" in md


def test_summary_lists_at_most_fifty_candidates_and_escapes_names(jobs: list[dict]) -> None:
    many = [
        {**c, "key": f"{c['key']}-{i}", "name": f"{c['name']}-{i}", "score": i}
        for i, c in enumerate(candidates(jobs) * 10)
    ]
    md = inventory_summary_md(jobs, many, GENERATED_AT)
    table = [line for line in md.splitlines() if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert len(table) == 50
    assert table[0].startswith("| 1 | ") and f"| {max(c['score'] for c in many)} |" in table[0]
    assert "<script>" not in md and XSS_NAME not in md
    # A pipe in a job name must not open a new table column.
    assert all(len(re.findall(r"(?<!\\)\|", line)) == 13 for line in table)


def test_summary_links_deep_analysed_jobs_to_their_report(jobs: list[dict]) -> None:
    md = inventory_summary_md(jobs, candidates(jobs), GENERATED_AT)
    assert "[daily\\_sales\\_etl](<jobs/123456789012/us-east-1/daily_sales_etl.md>)" not in md
    assert "[daily_sales_etl](<jobs/123456789012/us-east-1/daily_sales_etl.md>)" in md
    # '%' of the encoded file name is itself escaped in the link, so the link resolves to the file.
    assert "(<jobs/123456789012/us-east-1/%253Cscript%253Ealert%25281%2529%253C%252Fscript%253E.md>)" in md
