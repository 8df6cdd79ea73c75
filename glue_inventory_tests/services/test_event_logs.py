"""Event-log evidence of a job from the simulated S3 (moto) and the ETag cache in a real database: single and
rolled logs in every codec, the cache, and missing, unreadable, truncated and cut logs as findings."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from glue_inventory.analysis.spark.eventlog import codec_of
from glue_inventory.analysis.types import JobSpec
from glue_inventory.config import Settings
from glue_inventory.services.event_logs import event_log_recommendations, job_event_logs
from glue_inventory.simulate import Fault, build_fleet_from, start_simulator
from glue_inventory.simulate.event_logs import job_event_logs as simulated_logs
from glue_inventory.simulate.event_logs import run_app_profile
from glue_inventory.simulate.profiles import Profile

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
PROFILE = Profile(schedule="daily", worker_type="G.1X", workers=10, over_provisioned=True, spark_ui=True,
                  name="orders_daily")


@pytest.fixture(scope="module")
def fleet():
    # An account of its own: the session's simulator (other tests) serves the default one in this process.
    return build_fleet_from([PROFILE], seed=11, now=NOW, account_id="270000000002")


@pytest.fixture
def sim(fleet):
    with start_simulator(fleet) as simulator:
        yield simulator


@pytest.fixture
def s3(sim):
    return boto3.client("s3", endpoint_url=sim.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=sim.access_key_id, aws_secret_access_key=sim.secret_access_key)


def _job(fleet):
    job = fleet.jobs[0]
    spec = JobSpec(name=job.name, job_type="glueetl", worker_type="G.1X", number_of_workers=10,
                   default_arguments=dict(job.default_arguments))
    logged = sorted((r for r in job.runs if r.state != "RUNNING" and r.execution_time > 0),
                    key=lambda r: r.started)[-3:]
    runs = [(r.job_run_id, r.started_on, datetime.fromtimestamp(r.started + r.execution_time + 20, UTC))
            for r in reversed(logged)]
    return job, spec, runs


def _evidence(s3, engine, fleet, settings=None, runs=None):
    job, spec, recent = _job(fleet)
    return job_event_logs(s3, engine, job.default_arguments["--spark-event-logs-path"],
                          recent if runs is None else runs, spec, 300.0, settings or Settings())


def test_the_logs_of_the_recent_runs_are_read_single_and_rolled(s3, engine, fleet):
    job, _, runs = _job(fleet)
    evidence = _evidence(s3, engine, fleet)
    assert evidence["status"] == "ok" and [r["run_id"] for r in evidence["runs"]] == [r[0] for r in runs]
    assert {r["source"] for r in evidence["runs"]} == {"s3"}
    rolled = [r for r in evidence["runs"] if r["read"]["rolled"]]
    assert rolled and all(r["read"]["files"] > 1 and r["location"].endswith("/") for r in rolled)
    codecs = {r["read"]["codec"] for r in evidence["runs"]}
    assert len(codecs) == 3  # three runs, three codecs (simulate/event_logs.py rotates them)
    latest = evidence["latest"]
    assert latest["executors"] == 9 and latest["glue_run_id"] == runs[0][0] and latest["complete"]
    # The figures of the profile the simulator wrote the latest run from.
    run = next(r for r in job.runs if r.job_run_id == runs[0][0])
    app = run_app_profile(job, run)
    assert latest["driver_ms"] == app.head_ms + 2 * app.gap_ms + app.tail_ms
    assert latest["tasks"] == sum(stage.tasks for stage in app.stages)
    skew = next(f for f in evidence["findings"] if f["rule_id"] == "skewed-stage")
    assert skew["stage_id"] == 3 and skew["skew"] == pytest.approx(12.0, rel=0.15)
    rules = {f["rule_id"] for f in evidence["findings"]}
    assert {"skewed-stage", "spill-to-disk", "idle-executors", "small-files-write"} <= rules
    assert not any(rule.startswith("event-log-") for rule in rules)
    sizing = evidence["rightsizing"]
    assert sizing["status"] == "over_provisioned" and sizing["recommended"]["number_of_workers"] < 10
    assert evidence["measured_savings"]["skewed_stage"] > 0
    recs = event_log_recommendations(evidence)
    assert {r["rule_id"] for r in recs} == {"skewed-stage", "spill-to-disk", "small-files-write"}
    assert all(r["savings_basis"] == ("measured" if r["est_monthly_savings_usd"] else None) for r in recs)


def test_a_second_analysis_reads_the_cache_until_a_log_changes(s3, engine, fleet):
    first = _evidence(s3, engine, fleet)
    again = _evidence(s3, engine, fleet)
    assert again["cache_hits"] == 3 and {r["source"] for r in again["runs"]} == {"cache"}
    assert again["latest"] == first["latest"] and again["rightsizing"] == first["rightsizing"]
    job = fleet.jobs[0]
    single = next(r for r in first["runs"] if not r["read"]["rolled"])
    key = single["location"].split("/", 3)[3]
    content = simulated_logs(job, NOW.timestamp())[key]
    s3.put_object(Bucket=job.bucket, Key=key, Body=content + b"\n")  # a new ETag
    third = _evidence(s3, engine, fleet)
    assert third["cache_hits"] == 2
    assert next(r for r in third["runs"] if r["run_id"] == single["run_id"])["source"] == "s3"


def test_missing_unreadable_and_truncated_logs_are_findings_with_their_reason(s3, engine, fleet):
    job, _, runs = _job(fleet)
    first = _evidence(s3, engine, fleet)
    by_run = {r["run_id"]: r for r in first["runs"]}
    broken, truncated = runs[0][0], runs[1][0]
    broken_key = next(o for o in _objects(s3, job, by_run[broken]["location"]) if "appstatus" not in o)
    s3.put_object(Bucket=job.bucket, Key=broken_key, Body=b"this is no event log\n" * 3)
    truncated_key = next(o for o in _objects(s3, job, by_run[truncated]["location"]) if "appstatus" not in o)
    whole = s3.get_object(Bucket=job.bucket, Key=truncated_key)["Body"].read()
    s3.put_object(Bucket=job.bucket, Key=truncated_key, Body=whole[: len(whole) // 2])
    missing = ("jr_" + "0" * 64, datetime(2026, 11, 1, 3, tzinfo=UTC), datetime(2026, 11, 1, 4, tzinfo=UTC))
    evidence = _evidence(s3, engine, fleet, runs=[*runs, missing])
    found = {(f["rule_id"], f.get("run_id")): f["message"] for f in evidence["findings"]}
    assert ("event-log-missing", missing[0]) in found and "no event log under s3://" in found[
        ("event-log-missing", missing[0])]
    reasons = {rule for rule, run in found if run in (broken, truncated)}
    assert reasons <= {"event-log-unreadable", "event-log-truncated", "event-log-incomplete"} and reasons
    assert any(run == broken and rule in ("event-log-unreadable", "event-log-truncated") for rule, run in found)
    assert any(run == truncated and rule in ("event-log-truncated", "event-log-incomplete") for rule, run in found)
    assert evidence["status"] == "ok"  # the third run's log still counts


def _objects(s3, job, location: str) -> list[str]:
    prefix = location.split("/", 3)[3]
    return [o["Key"] for o in s3.list_objects_v2(Bucket=job.bucket, Prefix=prefix).get("Contents", [])]


def test_a_log_over_the_byte_bound_is_cut_and_says_so(s3, engine, fleet):
    settings = Settings(deep_analysis={"event_log_max_bytes": 3000})
    evidence = _evidence(s3, engine, fleet, settings)
    cut = [f for f in evidence["findings"] if f["rule_id"] == "event-log-cut"]
    assert len(cut) == 3 and all("deep_analysis.event_log_max_bytes (3,000 bytes)" in f["message"] for f in cut)
    assert all(r["read"]["bytes_read"] <= 3000 for r in evidence["runs"])
    assert evidence["rightsizing"] is None  # part of a run predicts nothing


def test_a_listing_denied_is_a_finding_naming_the_permission(sim, s3, engine, fleet):
    sim.inject(Fault("ListObjects", code="AccessDenied", status=403, message="Access Denied"))
    evidence = _evidence(s3, engine, fleet)
    (finding,) = evidence["findings"]
    assert finding["rule_id"] == "event-log-unreadable" and "AccessDenied" in finding["message"]
    assert "s3:ListBucket" in finding["message"] and evidence["status"] == "unavailable"


def test_a_log_naming_another_glue_run_is_not_taken_for_this_one(s3, engine, fleet):
    job, _, runs = _job(fleet)
    latest_id, started, completed = runs[0]
    impostor = ("jr_" + "1" * 64, started, completed)
    evidence = _evidence(s3, engine, fleet, runs=[impostor])
    (finding,) = evidence["findings"]
    assert finding["rule_id"] == "event-log-missing" and f"is run {latest_id}'s" in finding["message"]
    assert evidence["status"] == "unavailable" and evidence["rightsizing"] is None


def test_an_event_without_the_fields_spark_writes_is_an_unreadable_log(s3, engine, fleet):
    job, _, runs = _job(fleet)
    first = _evidence(s3, engine, fleet)
    single = next(r for r in first["runs"] if not r["read"]["rolled"])
    key = single["location"].split("/", 3)[3]
    plain = key.rsplit(".", 1)[0] if codec_of(key) else key  # the same log, uncompressed
    s3.delete_object(Bucket=job.bucket, Key=key)
    s3.put_object(Bucket=job.bucket, Key=plain, Body=b'{"Event":"SparkListenerJobStart","Submission Time":1}\n')
    evidence = _evidence(s3, engine, fleet)
    (finding,) = [f for f in evidence["findings"] if f.get("run_id") == single["run_id"]]
    assert finding["rule_id"] == "event-log-unreadable" and "a malformed event (KeyError" in finding["message"]
