"""Deep analysis end to end: CloudWatch right-sizing, scripts from S3, code analysis, LLM review, reports, and
the priority the evidence gives each job."""

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from glue_inventory.keys import encode_partition_key
from glue_inventory.orchestration.assets import CANDIDATES, DEEP_ASSET_KEYS, REPORT, RESCORE_OPS
from glue_inventory.pipeline import materialize, run_pipeline
from glue_inventory.reports.paths import job_report_relpath
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.candidates import current_candidates
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import analysis_runs, data_jobs
from glue_inventory_tests.llm_server import LLMServer

REVIEW = {
    "summary": "Over-provisioned Spark job.",
    "overall_risk": "medium",
    "recommendations": [{"title": "Use fewer workers", "category": "cost", "severity": "medium",
                         "est_monthly_savings_usd": 12.5, "effort": "low", "evidence_lines": [1]}],
}


def _key(job) -> str:
    return encode_partition_key(job.account_id, job.region, job.name)


@pytest.fixture
def deep_env(sqlite_url, tmp_path, monkeypatch):
    fleet = build_fleet(40, 8, datetime.now(UTC), account_id="610987654321")
    with start_simulator(fleet) as sim, LLMServer(json.dumps(REVIEW)) as llm:
        for name, value in sim.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", sqlite_url)
        monkeypatch.setenv("GLUE_INVENTORY_REPORTS_DIR", str(tmp_path / "reports"))
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv("OPENAI_BASE_URL", llm.base_url)
        monkeypatch.delenv("GLUE_INVENTORY_CONFIG", raising=False)
        yield sim, llm, sqlite_url, tmp_path / "reports"


def _deep_rows(url: str) -> dict[str, dict]:
    query = (sa.select(data_jobs.c.partition_key, analysis_runs)
             .join(data_jobs, data_jobs.c.id == analysis_runs.c.data_job_id)
             .where(analysis_runs.c.analysis_type == "deep"))
    with engine_for(url).connect() as conn:
        return {row["partition_key"]: dict(row) for row in conn.execute(query).mappings()}


def test_deep_analysis_of_chosen_jobs(deep_env):
    sim, llm, url, reports = deep_env
    east = [job for job in sim.fleet.jobs if job.region == "us-east-1"]
    truth = sim.truth(datetime.now(UTC))
    over = next(j for j in east if truth[j.key].over_provisioned)
    missing = next((j for j in east if j.profile.script_missing), None)
    planted = next(j for j in east if "collect-on-large-data" in j.script.rules and not j.profile.script_missing)
    chosen = list({j.key: j for j in (over, missing, planted) if j is not None}.values())
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
        for job in chosen:
            materialize(instance, DEEP_ASSET_KEYS, partition_key=_key(job))
        # A second analysis of an unchanged script is served from the cache.
        materialize(instance, ["job_code_analysis"], partition_key=_key(planted))
        record = instance.fetch_materializations(dg.AssetKey("job_code_analysis"), limit=1).records[0]
        assert record.asset_materialization.metadata["cache_hits"].value == 1

    rows = _deep_rows(url)
    assert set(rows) == {_key(j) for j in chosen}
    sizing = rows[_key(over)]["metrics"]["cloudwatch"]["rightsizing"]
    assert sizing["status"] == "over_provisioned"
    assert sizing["estimated_monthly_savings_usd"] > 0
    # The over-provisioned archetype writes Spark event logs: their replay, not CloudWatch, sizes it (both measured).
    source = "event_log" if over.profile.spark_ui else "cloudwatch"
    chosen_sizing = rows[_key(over)]["cost_analysis"]["rightsizing"]
    assert chosen_sizing["status"] == "over_provisioned" and chosen_sizing.get("source", "cloudwatch") == source
    assert any(r["source"] == source and r["est_monthly_savings_usd"] > 0
               for r in rows[_key(over)]["recommendations"])
    found = {f["rule_id"] for f in rows[_key(planted)]["code_analysis"]["findings"]}
    assert "collect-on-large-data" in found
    if missing is not None:
        assert "script-missing" in {f["rule_id"] for f in rows[_key(missing)]["code_analysis"]["findings"]}
    for job in chosen:
        review = rows[_key(job)]["ai_analysis"]
        assert review["status"] == "ok", review
        assert (reports / job_report_relpath(_key(job))).exists()
    assert len(llm.requests) == len(chosen)
    assert all(request["model"] for request in llm.requests)
    for job in chosen:
        for secret in truth[job.key].secrets:
            assert secret not in json.dumps(llm.requests)
    text = Path(reports / job_report_relpath(_key(planted))).read_text()
    assert "collect-on-large-data" in text and "## AI review" in text


def test_without_a_key_the_review_is_a_recorded_skip(deep_env, monkeypatch):
    sim, llm, url, _ = deep_env
    monkeypatch.delenv("OPENAI_API_KEY")
    job = next(j for j in sim.fleet.jobs if j.region == "us-east-1")
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
        materialize(instance, DEEP_ASSET_KEYS, partition_key=_key(job))
    review = _deep_rows(url)[_key(job)]["ai_analysis"]
    assert review["status"] == "skipped" and "OPENAI_API_KEY" in review["reason"]
    assert llm.requests == []


def _priorities(url: str) -> dict[str, str | None]:
    with engine_for(url).connect() as conn:
        return dict(conn.execute(sa.select(data_jobs.c.partition_key, data_jobs.c.priority)).all())


def test_deep_evidence_sets_priority_and_savings_everywhere(deep_env):
    """A job with a hard-coded credential is critical in every report after its deep analysis, measured
    right-sizing replaces the 30 % estimate, and the next candidate list keeps both."""
    sim, _, url, reports = deep_env
    east = [job for job in sim.fleet.jobs if job.region == "us-east-1"]
    truth = sim.truth(datetime.now(UTC))
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
        before = {c["key"]: c for c in current_candidates(engine_for(url))}
        # A candidate whose preliminary priority is below critical and whose script holds a credential.
        leaky = next(j for j in east if "hardcoded-credentials" in j.script.rules and not j.profile.script_missing
                     and _key(j) in before and before[_key(j)]["priority"] != "critical")
        over = next(j for j in east if truth[j.key].over_provisioned and _key(j) in before
                    and "high_cost" in before[_key(j)]["reasons"] and _key(j) != _key(leaky))
        for job in (leaky, over):
            materialize(instance, DEEP_ASSET_KEYS, partition_key=_key(job))
        # The candidate list downstream of the deep analysis scores the evidence (the follow-up run).
        materialize(instance, [CANDIDATES], ops=RESCORE_OPS)
        materialize(instance, [REPORT])

        engine = engine_for(url)
        after = {c["key"]: c for c in current_candidates(engine)}
        assert after[_key(leaky)]["priority"] == "critical"
        assert "code_findings" in after[_key(leaky)]["reasons"]
        assert after[_key(leaky)]["score"] >= 1000
        assert _priorities(url)[_key(leaky)] == "critical"
        assert after[_key(over)]["savings_basis"] == "measured"
        assert "high_cost" not in after[_key(over)]["savings_by_reason"]  # the 30 % estimate is replaced
        assert after[_key(over)]["savings_by_reason"]["right_sizing"] > 0
        assert before[_key(over)]["savings_by_basis"]["rule_of_thumb"] > 0  # the 30 % until measured

        report = (reports / job_report_relpath(_key(leaky))).read_text()
        assert "Priority **critical**" in report and "hardcoded-credentials" in report
        over_report = (reports / job_report_relpath(_key(over))).read_text()
        measured = after[_key(over)]["savings_by_basis"]["measured"]
        assert f"savings identified **${measured:,.2f} per month** (${measured:,.2f} measured" in over_report
        listed = {row["key"]: row for row in json.loads((reports / "candidates.json").read_text())["candidates"]}
        assert listed[_key(leaky)]["priority"] == "critical"
        assert listed[_key(over)]["savings_basis"] == "measured"
        rows = {row["key"]: row for row in csv.DictReader(io.StringIO((reports / "candidates.csv").read_text()))}
        assert rows[_key(leaky)]["priority"] == "critical" and rows[_key(over)]["savings_basis"] == "measured"
        executive = json.loads((reports / "executive.json").read_text())
        assert executive["savings"]["by_basis"]["measured"] > 0
        summary = (reports / "executive_summary.md").read_text()
        assert "measured from the jobs' own telemetry" in summary
        dashboard = (reports / "dashboard.html").read_text()
        assert _dashboard_priority(dashboard, leaky.name) == "critical"

        # The next candidate list keeps what the deep analysis established.
        materialize(instance, [CANDIDATES])
        again = {c["key"]: c for c in current_candidates(engine)}
        assert again[_key(leaky)]["priority"] == "critical"
        assert again[_key(over)]["savings_basis"] == "measured"
        assert again[_key(over)]["estimated_monthly_savings_usd"] == pytest.approx(
            after[_key(over)]["estimated_monthly_savings_usd"])


def _dashboard_priority(html: str, name: str) -> str | None:
    """The priority cell of the job's row in the dashboard's embedded table."""
    start = html.index('id="jobs-data"')
    data = json.loads(html[html.index(">", start) + 1: html.index("</script>", start)])
    columns = data["columns"]
    row = next(r for r in data["rows"] if r[columns.index("name")] == name)
    return row[columns.index("priority")]

