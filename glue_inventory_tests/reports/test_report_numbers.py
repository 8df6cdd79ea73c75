"""The numbers in executive.json, executive_summary.md and dashboard.html equal sums computed from the database."""

import json
import re
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from glue_inventory.pipeline import run_pipeline
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import data_jobs, deep_analysis_candidates
from glue_inventory_tests.sim_fixtures import point_pipeline_at


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _pipeline(database_url, simulator, tmp_path, monkeypatch, deep_jobs: int = 0) -> Path:
    point_pipeline_at(monkeypatch, simulator, database_url, tmp_path / "reports")
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None, deep_jobs=deep_jobs)
    return tmp_path / "reports"


@pytest.fixture
def reports(database_url, simulator, tmp_path, monkeypatch):
    return _pipeline(database_url, simulator, tmp_path, monkeypatch), database_url


def test_executive_numbers_equal_database_sums(reports):
    folder, url = reports
    with engine_for(url).connect() as conn:
        jobs = [dict(r) for r in conn.execute(sa.select(data_jobs)).mappings()]
        savings = conn.execute(sa.select(sa.func.sum(deep_analysis_candidates.c.savings_identified_usd),
                                         sa.func.count(), sa.func.sum(deep_analysis_candidates.c.savings_potential_usd))
                               .where(deep_analysis_candidates.c.is_current)).one()
    spend = round(sum(j["metrics"]["monthly_projection_usd"] for j in jobs), 2)
    by_status = Counter(j["status"] for j in jobs)
    eol = sum(1 for j in jobs if j["status"] != "deleted" and j["metrics"]["eol_version"])
    saved, potential = round(savings[0], 2), round(savings[2], 2)

    numbers = json.loads((folder / "executive.json").read_text())
    assert numbers["schema_version"] == 2
    assert numbers["spend"]["estimated_monthly_usd"] == pytest.approx(spend, abs=0.01)
    assert numbers["jobs"]["by_status"] == dict(by_status)
    assert numbers["savings"]["total_monthly_usd"] == pytest.approx(saved, abs=0.01)
    assert numbers["savings"]["potential_monthly_usd"] == pytest.approx(potential, abs=0.01)
    assert numbers["savings"]["candidates"] == savings[1]
    assert numbers["eol"]["jobs"] == eol

    summary = (folder / "executive_summary.md").read_text()
    assert f"Monthly spend (estimated from runs): {_usd(spend)}" in summary
    assert f"Savings identified: {_usd(saved)} per month** across {savings[1]} candidate jobs" in summary
    for status, count in by_status.items():
        assert re.search(rf"\| {status} \| {count} \|", summary), status

    page = (folder / "dashboard.html").read_text()
    assert f'id="spend-estimated">{_usd(spend)}<' in page
    assert f'id="savings-total">{_usd(saved)}<' in page
    assert f'id="savings-potential">{_usd(potential)}<' in page
    assert f'id="eol-total">{eol}<' in page
    table = json.loads(re.search(r'<script type="application/json" id="jobs-data">(.*?)</script>', page,
                                 re.S).group(1))
    assert len(table["rows"] if isinstance(table, dict) else table) == len(jobs)


def test_inventory_files_cover_every_job(reports):
    folder, url = reports
    with engine_for(url).connect() as conn:
        keys = set(conn.execute(sa.select(data_jobs.c.partition_key)).scalars())
    inventory = json.loads((folder / "inventory.json").read_text())
    assert {j["key"] for j in inventory["jobs"]} == keys
    assert Path(folder / "inventory.csv").read_text().count("\n") == len(keys) + 1


@pytest.fixture
def deep_reports(database_url, simulator, tmp_path, monkeypatch):
    return _pipeline(database_url, simulator, tmp_path, monkeypatch, deep_jobs=10)


def test_every_ranked_action_saves_what_its_job_report_says(deep_reports):
    numbers = json.loads((deep_reports / "executive.json").read_text())
    rankings = numbers["rankings"]
    assert rankings["largest_savings"] and rankings["highest_risks"]
    summary = (deep_reports / "executive_summary.md").read_text()
    assert "## Largest savings" in summary and "## Highest risks" in summary
    candidates = {c["key"]: c for c in json.loads((deep_reports / "candidates.json").read_text())["candidates"]}
    checked = 0
    for action in rankings["largest_savings"] + rankings["highest_risks"]:
        saving = action["est_monthly_savings_usd"]
        if action["report_path"]:
            report = (deep_reports / action["report_path"]).read_text()
            line = next(line for line in report.splitlines() if line.startswith(tuple(f"{i}. **" for i in range(1, 99)))
                        and action["action"].replace("`", "") in line.replace("\\", "").replace("`", ""))
            assert (f"saves {_usd(saving)}/month" in line) if saving else ("saves" not in line), line
            checked += 1
        else:  # no deep analysis yet: the action of a candidate reason, with that reason's saving
            assert saving == (candidates[action["key"]]["savings_by_reason"].get(action["reason"]) or 0.0)
    assert checked
    for action in rankings["largest_savings"]:
        assert action["est_monthly_savings_usd"] > 0
    owners = {a["owner"] for a in rankings["largest_savings"] + rankings["highest_risks"]}
    assert not any(owner and owner.startswith("CC-") for owner in owners)  # a cost center is never an owner
