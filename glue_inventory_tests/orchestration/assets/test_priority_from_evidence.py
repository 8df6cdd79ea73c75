"""Priority from evidence, end to end on the simulator: after a deep analysis a job with a hard-coded credential is
critical in every report, measured right-sizing replaces the 30 % estimate, and the next candidate list keeps both."""

import csv
import io
import json
from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa

from glue_inventory.keys import encode_partition_key
from glue_inventory.orchestration.assets import CANDIDATES, DEEP_ASSET_KEYS, REPORT
from glue_inventory.pipeline import materialize, run_pipeline
from glue_inventory.reports.paths import job_report_relpath
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.candidates import current_candidates
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import data_jobs


def _key(job) -> str:
    return encode_partition_key(job.account_id, job.region, job.name)


@pytest.fixture
def fleet_env(sqlite_url, tmp_path, monkeypatch):
    fleet = build_fleet(40, 8, datetime.now(UTC), account_id="610987654322")
    with start_simulator(fleet) as sim:
        for name, value in sim.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", sqlite_url)
        monkeypatch.setenv("GLUE_INVENTORY_REPORTS_DIR", str(tmp_path / "reports"))
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        monkeypatch.delenv("GLUE_INVENTORY_CONFIG", raising=False)
        yield sim, sqlite_url, tmp_path / "reports"


def _priorities(url: str) -> dict[str, str | None]:
    with engine_for(url).connect() as conn:
        return dict(conn.execute(sa.select(data_jobs.c.partition_key, data_jobs.c.priority)).all())


def test_deep_evidence_sets_priority_and_savings_everywhere(fleet_env):
    sim, url, reports = fleet_env
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
        assert before[_key(over)]["savings_basis"] == "estimate"

        report = (reports / job_report_relpath(_key(leaky))).read_text()
        assert "Priority **critical**" in report and "hardcoded-credentials" in report
        assert "measured savings" in (reports / job_report_relpath(_key(over))).read_text()
        listed = {row["key"]: row for row in json.loads((reports / "candidates.json").read_text())["candidates"]}
        assert listed[_key(leaky)]["priority"] == "critical"
        assert listed[_key(over)]["savings_basis"] == "measured"
        rows = {row["key"]: row for row in csv.DictReader(io.StringIO((reports / "candidates.csv").read_text()))}
        assert rows[_key(leaky)]["priority"] == "critical" and rows[_key(over)]["savings_basis"] == "measured"
        executive = json.loads((reports / "executive.json").read_text())
        assert executive["savings"]["by_basis"]["measured"] > 0
        summary = (reports / "executive_summary.md").read_text()
        assert "measured by deep analysis" in summary
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

