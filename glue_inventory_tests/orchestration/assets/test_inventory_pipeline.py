"""The preliminary pipeline against the simulated fleet equals the simulator's ground truth."""

import logging
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from glue_inventory.aws.clients import CallCounter, platform_sessions
from glue_inventory.aws.sessions import SessionMap
from glue_inventory.config import load_settings
from glue_inventory.keys import encode_partition_key
from glue_inventory.pipeline import materialize, run_pipeline
from glue_inventory.services.preliminary import PreliminaryRunner
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import data_jobs, deep_analysis_candidates, job_runs

REGION = "us-east-1"


@pytest.fixture
def pipeline_env(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", database_url)
    monkeypatch.setenv("GLUE_INVENTORY_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.delenv("GLUE_INVENTORY_CONFIG", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return database_url


def _use(sim, monkeypatch):
    for name, value in sim.env().items():
        monkeypatch.setenv(name, value)


def _key(job) -> str:
    return encode_partition_key(*job.key.split("/", 2))


def _jobs(url: str) -> dict[str, dict]:
    with engine_for(url).connect() as conn:
        return {row["partition_key"]: dict(row) for row in conn.execute(sa.select(data_jobs)).mappings()}


def _run_count(url: str) -> int:
    with engine_for(url).connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(job_runs)).scalar_one()


def _reasons(url: str) -> dict[int, set[str]]:
    with engine_for(url).connect() as conn:
        rows = conn.execute(sa.select(deep_analysis_candidates.c.data_job_id, deep_analysis_candidates.c.reasons)
                            .where(deep_analysis_candidates.c.is_current)).all()
    return {job_id: set(reasons) for job_id, reasons in rows}


def test_inventory_equals_ground_truth(pipeline_env, simulator, monkeypatch):
    _use(simulator, monkeypatch)
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
    truth = {encode_partition_key(*k.split("/", 2)): t
             for k, t in simulator.truth(datetime.now(UTC)).items() if f"/{REGION}/" in k}
    jobs = _jobs(pipeline_env)
    reasons = _reasons(pipeline_env)
    assert set(jobs) == set(truth)
    mismatches = []
    for key, expected in truth.items():
        job = jobs[key]
        metrics = job["metrics"]
        got = (job["status"], round(metrics["cost_30d_usd"], 6), round(metrics["failure_rate_30d"], 6),
               reasons.get(job["id"], set()))
        want = (expected.status, round(expected.cost_30d_usd, 6), round(expected.failure_rate_30d, 6),
                set(expected.reasons))
        if got != want:
            mismatches.append((key, got, want))
    assert not mismatches
    assert {j["status"] for j in jobs.values()} >= {"active", "idle", "stale", "abandoned", "never_run", "new"}


def test_rerun_is_incremental_and_adds_nothing(pipeline_env, simulator, monkeypatch):
    _use(simulator, monkeypatch)
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
        before = _run_count(pipeline_env)
        keys = instance.get_dynamic_partitions("glue_jobs")
        simulator.reset_call_counts()
        materialize(instance, ["job_preliminary_metrics"],
                    {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]})
        calls = dict(simulator.call_counts)
    assert _run_count(pipeline_env) == before
    assert calls.get("GetJobRuns", 0) <= len(keys) * 1.05, calls


def test_retention_deletion_and_new_runs(pipeline_env, tmp_path, monkeypatch):
    fleet = build_fleet(25, 11, datetime.now(UTC), account_id="210987654321")
    with start_simulator(fleet) as sim, dg.DagsterInstance.ephemeral() as instance:
        _use(sim, monkeypatch)
        run_pipeline(instance, log=lambda _: None)
        stored = _run_count(pipeline_env)
        statuses = {k: j["status"] for k, j in _jobs(pipeline_env).items()}

        assert sim.expire_runs(datetime.now(UTC) - timedelta(days=90)) > 0
        victim = next(j for j in fleet.jobs if j.region == REGION and j.runs)
        sim.delete_job(victim.name)
        revived = next(j for j in fleet.jobs if j.region == REGION and j.name != victim.name
                       and statuses[_key(j)] in {"stale", "abandoned"})
        sim.add_runs(revived.name, 2)
        run_pipeline(instance, log=lambda _: None)

        jobs = _jobs(pipeline_env)
        assert jobs[_key(victim)]["status"] == "deleted"
        assert jobs[_key(victim)]["deleted_at"] is not None
        assert _key(victim) not in instance.get_dynamic_partitions("glue_jobs")
        assert jobs[_key(revived)]["status"] == "active"
        # Runs Glue dropped stay in our history; only the two new runs were added.
        assert _run_count(pipeline_env) == stored + 2
        for key, status in statuses.items():
            if key not in (_key(victim), _key(revived)):
                assert jobs[key]["status"] == status, key


def test_oldest_first_listing_gives_the_same_answers(pipeline_env, monkeypatch):
    fleet = build_fleet(20, 5, datetime.now(UTC), account_id="310987654321")
    fleet.runs_newest_first = False  # moto's order, the reverse of Glue's
    with start_simulator(fleet) as sim, dg.DagsterInstance.ephemeral() as instance:
        _use(sim, monkeypatch)
        run_pipeline(instance, log=lambda _: None)
        target = next(j for j in fleet.jobs if j.region == REGION and len(j.runs) > 250)
        sim.add_runs(target.name, 3)
        run_pipeline(instance, log=lambda _: None)
        jobs = _jobs(pipeline_env)
        truth = {encode_partition_key(*k.split("/", 2)): t
                 for k, t in sim.truth(datetime.now(UTC)).items() if f"/{REGION}/" in k}
    assert {k: (j["status"], round(j["metrics"]["cost_30d_usd"], 6)) for k, j in jobs.items()} == \
        {k: (t.status, round(t.cost_30d_usd, 6)) for k, t in truth.items()}
    assert jobs[_key(target)]["metrics"]["runs_total"] == truth[_key(target)].run_count


def test_runner_answers_for_deleted_unknown_and_malformed_keys(pipeline_env, monkeypatch):
    """The refresh service reads the jobs a chunk at a time: a deleted job and a key the inventory does not
    hold still get their rows, and a malformed key fails before any call is made."""
    fleet = build_fleet(12, 5, datetime.now(UTC), account_id="210987654321")
    with start_simulator(fleet) as sim, dg.DagsterInstance.ephemeral() as instance:
        _use(sim, monkeypatch)
        run_pipeline(instance, log=lambda _: None)
        victim = next(j for j in fleet.jobs if j.region == REGION and j.runs)
        live = next(j for j in fleet.jobs if j.region == REGION and j.name != victim.name and j.runs)
        sim.delete_job(victim.name)
        materialize(instance, ["glue_jobs"])

        def runner() -> PreliminaryRunner:
            settings, counter = load_settings(), CallCounter()
            sessions = SessionMap(platform_sessions(settings.effective_platforms(), counter=counter))
            return PreliminaryRunner(sessions=sessions, counter=counter, settings=settings,
                                     engine=engine_for(pipeline_env), log=logging.getLogger("test"))

        unknown = encode_partition_key("210987654321", REGION, "never-listed")
        refresh = runner()
        results = refresh.run([_key(live), _key(victim), unknown])
        assert results[_key(victim)]["status"] == "deleted"
        assert results[_key(live)]["status"] == _jobs(pipeline_env)[_key(live)]["status"]
        assert results[_key(live)]["last_error"] is None
        assert results[unknown]["last_error"] == "job not in the inventory: materialize glue_jobs first"
        assert (refresh.stats.jobs_done, refresh.stats.jobs_total) == (3, 3)

        malformed = runner()
        with pytest.raises(ValueError, match="'no-slashes' is not <account_id>/<region>/<job_name>"):
            malformed.run([_key(live), "no-slashes"])
        assert malformed.counter.total_calls == 0
