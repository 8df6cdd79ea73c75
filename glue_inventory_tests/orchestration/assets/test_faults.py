"""Faults AWS produces: one region denied, one job's runs denied, throttling storms, 5xx — nothing lost."""

from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa

from glue_inventory.config import ConfigError, load_settings
from glue_inventory.keys import encode_partition_key
from glue_inventory.orchestration.assets import DEEP_ASSET_KEYS
from glue_inventory.orchestration.observability import run_figures
from glue_inventory.pipeline import materialize, run_pipeline
from glue_inventory.simulate import Fault, build_fleet, start_simulator
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import analysis_runs, data_jobs, job_runs, platforms

ACCOUNT = "410987654321"


@pytest.fixture
def faulty(sqlite_url, tmp_path, monkeypatch):
    fleet = build_fleet(24, 3, datetime.now(UTC), account_id=ACCOUNT)
    with start_simulator(fleet) as sim:
        for name, value in sim.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", sqlite_url)
        monkeypatch.setenv("GLUE_INVENTORY_REPORTS_DIR", str(tmp_path / "reports"))
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        config = tmp_path / "config.yaml"
        config.write_text("platforms:\n  - name: sim\n    regions: [us-east-1, eu-west-1]\n")
        monkeypatch.setenv("GLUE_INVENTORY_CONFIG", str(config))
        yield sim, sqlite_url


def _rows(url, query):
    with engine_for(url).connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def test_denied_region_is_recorded_and_the_other_completes(faulty):
    sim, url = faulty
    sim.inject(Fault("GetJobs", region="eu-west-1"))
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("glue_jobs"), "no_platform_failed")])
    by_region = {p["region"]: p for p in _rows(url, sa.select(platforms))}
    assert by_region["eu-west-1"]["status"] == "failed"
    assert "AccessDeniedException" in by_region["eu-west-1"]["last_error"]
    assert by_region["us-east-1"]["status"] == "ok"
    east = [j for j in sim.fleet.jobs if j.region == "us-east-1"]
    stored = _rows(url, sa.select(data_jobs.c.name, data_jobs.c.status))
    assert {r["name"] for r in stored} == {j.name for j in east}
    assert all(r["status"] for r in stored)
    evaluation = next(iter(check.values())).event.dagster_event.event_specific_data
    assert evaluation.passed is False


def test_denied_runs_of_one_job_are_recorded_on_that_job(faulty):
    sim, url = faulty
    victim = next(j for j in sim.fleet.jobs if j.region == "us-east-1" and j.runs and j.name.isascii())
    sim.inject(Fault("GetJobRuns", body_contains=f'"JobName": "{victim.name}"'))
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
    jobs = {r["name"]: r for r in _rows(url, sa.select(data_jobs))}
    assert "AccessDeniedException" in jobs[victim.name]["last_error"]
    others = [r for name, r in jobs.items() if name != victim.name]
    assert others and all(r["last_error"] is None and r["status"] for r in others)


def test_throttling_storm_and_server_errors_lose_nothing(faulty):
    sim, url = faulty
    truth = sim.truth(datetime.now(UTC))
    sim.inject(Fault("GetJobRuns", code="ThrottlingException", message="Rate exceeded", times=40))
    sim.inject(Fault("GetJobs", code="InternalServiceException", status=500, message="boom", times=2))
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
        retries = run_figures(instance, dg.AssetKey("job_preliminary_metrics"))["throttling_retries"]
    assert retries >= 40
    jobs = {r["partition_key"]: r for r in _rows(url, sa.select(data_jobs))}
    for key, expected in truth.items():
        job = jobs[encode_partition_key(*key.split("/", 2))]
        assert job["last_error"] is None
        assert (job["status"], round(job["metrics"]["cost_30d_usd"], 6)) == (expected.status,
                                                                              round(expected.cost_30d_usd, 6))
    with engine_for(url).connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(job_runs)).scalar_one()
    assert count == sum(t.run_count for t in truth.values())


@pytest.mark.parametrize(("text", "expected"), [
    ("platforms:\n  - name: x\n", "platforms.0.regions"),
    ("platforms: [{name: x, regions: [us-east-1], aws_secret_access_key: abc}]", "secrets are not accepted"),
    ("thresholds: {active_days: soon}", "thresholds.active_days"),
    ("platforms: [\n", "not valid YAML"),
    ("- just\n- a list\n", "expected a mapping"),
])
def test_malformed_config_names_file_and_key(tmp_path, text, expected):
    path = tmp_path / "glue.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=expected) as error:
        load_settings(path)
    assert str(path) in str(error.value)


def test_missing_config_file_says_how_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="GLUE_INVENTORY_CONFIG"):
        load_settings(tmp_path / "absent.yaml")


def test_deep_analysis_survives_cloudwatch_and_s3_faults(faulty):
    sim, url = faulty
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
        east = [j for j in sim.fleet.jobs if j.region == "us-east-1" and not j.profile.script_missing
                and j.name.isascii()]
        truth = sim.truth(datetime.now(UTC))
        healthy = next(j for j in east if j.command["Name"] == "glueetl" and "--enable-metrics" in j.default_arguments
                       and truth[j.key].status == "active")
        denied = next(j for j in east if j is not healthy)
        sim.inject(Fault("GetObject", code="AccessDenied", status=403, message="Access Denied",
                         body_contains=denied.script_location.split("/", 3)[3]))
        s3_errors = sim.inject(Fault("GetObject", code="InternalError", status=500,
                                     message="We encountered an internal error", times=2))
        cw_errors = sim.inject(Fault("GetMetricData", code="InternalServerError", status=500, message="boom", times=2))
        cw_throttles = sim.inject(Fault("GetMetricData", code="ThrottlingException", message="Rate exceeded", times=3))
        for job in (denied, healthy):
            materialize(instance, DEEP_ASSET_KEYS, partition_key=encode_partition_key(ACCOUNT, job.region, job.name))
    rows = {r["name"]: r for r in _rows(url, sa.select(data_jobs.c.name, analysis_runs.c.code_analysis,
                                                      analysis_runs.c.metrics)
                                        .join(analysis_runs, analysis_runs.c.data_job_id == data_jobs.c.id)
                                        .where(analysis_runs.c.analysis_type == "deep"))}
    denied_rules = {f["rule_id"] for f in rows[denied.name]["code_analysis"]["findings"]}
    assert "script-access-denied" in denied_rules
    assert rows[healthy.name]["metrics"]["script"]["sha256"]
    assert rows[healthy.name]["metrics"]["cloudwatch"].get("error") is None
    assert rows[healthy.name]["metrics"]["cloudwatch"]["runs"]
    assert (s3_errors.hits, cw_errors.hits, cw_throttles.hits) == (2, 2, 3)
