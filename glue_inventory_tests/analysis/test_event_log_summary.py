"""A run's figures from its event log against the simulated profile that wrote it, the replay against one done by
hand, the findings and the right-sizing they lead to."""

from __future__ import annotations

import math
import statistics

import pytest

from glue_inventory.analysis.spark.eventlog import decompressed, events
from glue_inventory.analysis.spark.findings import run_findings
from glue_inventory.analysis.spark.replay import StageTasks, executor_counts, predicted_wall_ms
from glue_inventory.analysis.spark.rightsizing import choose_rightsizing, event_log_rightsizing
from glue_inventory.analysis.spark.summary import WANTED, RunListener, summarize
from glue_inventory.analysis.types import JobSpec
from glue_inventory.simulate.event_logs import RUN_SHARE, AppProfile, SimStage, encode, event_lines, task_durations

MiB = 1024 * 1024
START = 1_700_000_000_000
PROFILE = AppProfile(executors=4, cores=2, seed=5, stages=(
    SimStage(0, 0, 16, 10_000, name="scan"),
    SimStage(1, 0, 8, 5_000, parents=(0,), name="exchange"),
    SimStage(2, 1, 8, 10_000, skew=12.0, memory_spill_bytes=400 * MiB, disk_spill_bytes=200 * MiB, name="join"),
    SimStage(3, 2, 150, 1_000, output_bytes=MiB, name="write"),
))


def _summary(profile: AppProfile, codec: str | None = "lz4") -> dict:
    data = encode(list(event_lines(profile, START, "spark-application-1")), codec)
    return summarize(RunListener().feed(events(decompressed([data], codec), WANTED)))


@pytest.fixture(scope="module")
def summary() -> dict:
    return _summary(PROFILE)


def test_the_figures_are_those_of_the_profile(summary):
    durations = {stage.stage_id: task_durations(PROFILE, stage) for stage in PROFILE.stages}
    assert summary["complete"] and summary["app_id"] == "spark-application-1"
    assert (summary["executors"], summary["cores_per_executor"], summary["slots"]) == (4, 2, 8)
    assert summary["tasks"] == 16 + 8 + 8 + 150 and summary["jobs"] == 3
    # Driver-only: before the first job, between the three jobs and the idle tail.
    assert summary["driver_ms"] == PROFILE.head_ms + 2 * PROFILE.gap_ms + PROFILE.tail_ms
    # Executors live from half the head to the end; they run RUN_SHARE of each task's time.
    lifetime = summary["wall_ms"] - PROFILE.head_ms // 2
    busy = sum(round(d * RUN_SHARE) for stage in durations.values() for d in stage)
    assert summary["utilisation"] == pytest.approx(busy / (4 * 2 * lifetime), abs=1e-4)
    stages = {s["stage_id"]: s for s in summary["stages"]}
    assert stages[2]["max_task_ms"] == 120_000
    assert stages[2]["skew"] == pytest.approx(120_000 / statistics.median(durations[2]), abs=0.01)
    assert stages[0]["skew"] < 1.3
    assert (stages[2]["disk_spill_bytes"], stages[2]["memory_spill_bytes"]) == (8 * 200 * MiB, 8 * 400 * MiB)
    assert summary["output"] == {"bytes": 150 * MiB, "records": 150_000, "files_at_least": 150,
                                 "avg_file_bytes_at_most": MiB}
    longest = {stage_id: max(values) for stage_id, values in durations.items()}
    assert summary["critical_path_ms"] == summary["driver_ms"] + longest[0] + longest[1] + longest[2] + longest[3]
    total = sum(sum(values) for values in durations.values())
    assert summary["perfect_parallelism_ms"] == pytest.approx(summary["driver_ms"] + total / 8, abs=0.1)


def test_every_codec_gives_the_same_summary(summary):
    for codec in (None, "snappy", "zstd", "gzip"):
        assert _summary(PROFILE, codec) == summary, codec


def test_replaying_at_the_runs_own_executor_count_gives_its_wall_time(summary):
    own = next(p for p in summary["predictions"] if p["executors"] == 4)
    assert own["predicted_ms"] == summary["wall_ms"]
    assert [p["executors"] for p in summary["predictions"]] == executor_counts(4)
    times = [p["predicted_ms"] for p in summary["predictions"]]
    assert times == sorted(times, reverse=True)  # more slots never predict a longer run here


def _by_hand(profile: AppProfile, slots: int) -> float:
    """Each stage (the stages of these jobs follow one another) as whole waves of its mean task, or its longest
    task when that is longer; plus the driver-only time."""
    total = profile.head_ms + profile.gap_ms * (len(profile.job_ids) - 1) + profile.tail_ms
    for stage in profile.stages:
        durations = task_durations(profile, stage)
        waves = math.ceil(len(durations) / slots)
        total += max(max(durations), waves * statistics.mean(durations))
    return total


@pytest.mark.parametrize("executors", [1, 2, 3, 6, 8])
def test_the_prediction_is_within_15_percent_of_a_replay_by_hand(summary, executors):
    predicted = next((p for p in summary["predictions"] if p["executors"] == executors), None)
    if predicted is None:
        jobs = [[StageTasks(s.stage_id, s.parents, task_durations(PROFILE, s)) for s in PROFILE.stages
                 if s.job_id == job] for job in PROFILE.job_ids]
        predicted = {"predicted_ms": predicted_wall_ms(summary["driver_ms"], jobs, executors * 2)}
    assert predicted["predicted_ms"] == pytest.approx(_by_hand(PROFILE, executors * 2), rel=0.15)


def test_the_replay_respects_the_stage_dag():
    # Two 10 s stages that both feed a third: in 2 slots they run side by side (10 s), then the third (10 s).
    stages = [StageTasks(0, (), [10_000]), StageTasks(1, (), [10_000]), StageTasks(2, (0, 1), [10_000, 10_000])]
    assert predicted_wall_ms(1_000, [stages], 2) == 21_000
    assert predicted_wall_ms(1_000, [stages], 1) == 41_000


def test_the_findings_carry_their_stage_and_numbers(summary):
    found = {f["rule_id"]: f for f in run_findings(summary, monthly_cost=1000.0)}
    skew = found["skewed-stage"]
    assert skew["stage_id"] == 2 and skew["max_task_ms"] == 120_000
    lost = 120_000 - skew["median_task_ms"]
    assert skew["est_monthly_savings_usd"] == round(1000.0 * lost / summary["wall_ms"], 2)
    assert skew["savings_basis"] == "measured" and "stage 2 (join) waits 2.0 min on one task of 8" in skew["message"]
    assert found["spill-to-disk"]["stage_id"] == 2 and "1.6 GiB to disk" in found["spill-to-disk"]["message"]
    assert found["small-files-write"]["files_at_least"] == 150
    assert ("idle-executors" in found) == (summary["utilisation"] < 0.5)
    assert "driver-bound" not in found  # 54 s of about 3.5 min


def test_a_run_that_waits_on_its_driver_is_driver_bound():
    profile = AppProfile(executors=2, cores=2, seed=1, tail_ms=600_000, stages=(SimStage(0, 0, 4, 10_000),))
    summary = _summary(profile)
    (driver,) = [f for f in run_findings(summary, 100.0) if f["rule_id"] == "driver-bound"]
    assert driver["driver_ms"] == 620_000 and driver["driver_share"] > 0.9


def test_an_over_provisioned_run_is_right_sized_to_fewer_workers_at_most_max_slowdown_slower():
    profile = AppProfile(executors=19, cores=4, seed=3, stages=(
        SimStage(0, 0, 10, 60_000), SimStage(1, 0, 10, 60_000, parents=(0,))))
    summary = _summary(profile, "zstd")
    job = JobSpec(name="orders", job_type="glueetl", worker_type="G.1X", number_of_workers=20)
    sizing = event_log_rightsizing(job, [summary], monthly_cost=1000.0, max_slowdown=0.10)
    evidence = sizing["evidence"]
    assert sizing["status"] == "over_provisioned" and sizing["source"] == "event_log"
    # 10 tasks of one minute fill 3 executors of 4 cores (12 slots): nothing is slower.
    assert evidence["recommended_executors"] == 3 and sizing["recommended"]["number_of_workers"] == 4
    assert 0 <= evidence["predicted_slowdown"] <= 0.10
    used = 4 * evidence["predicted_s_recommended"] / (20 * evidence["predicted_s_now"])
    assert sizing["estimated_monthly_savings_usd"] == pytest.approx(1000.0 * (1 - used), abs=0.05)


def test_a_run_that_fills_its_slots_is_right_sized():
    profile = AppProfile(executors=8, cores=4, seed=4, stages=(SimStage(0, 0, 128, 10_000),))
    job = JobSpec(name="busy", job_type="glueetl", worker_type="G.1X", number_of_workers=9)
    sizing = event_log_rightsizing(job, [_summary(profile)], monthly_cost=500.0, max_slowdown=0.10)
    assert sizing["status"] == "right_sized" and sizing["estimated_monthly_savings_usd"] == 0.0
    assert sizing["recommended"] == sizing["current"]


def test_the_event_log_is_preferred_and_a_disagreement_with_cloudwatch_is_explained():
    log = {"status": "over_provisioned", "recommended": {"number_of_workers": 4}}
    cloudwatch = {"status": "over_provisioned", "recommended": {"number_of_workers": 12},
                  "estimated_monthly_savings_usd": 10.0}
    chosen, why = choose_rightsizing(log, cloudwatch)
    assert chosen is log and why["source"] == "event_log" and why["agree"] is False
    assert "says 4 workers, CloudWatch's peak of needed executors 12" in why["why"]
    chosen, why = choose_rightsizing(log, {**cloudwatch, "recommended": {"number_of_workers": 5}})
    assert why["agree"] is True
    chosen, why = choose_rightsizing(None, cloudwatch)
    assert chosen is cloudwatch and why["source"] == "cloudwatch"
    chosen, why = choose_rightsizing(log, {"status": "metrics_disabled"})
    assert chosen is log and "no CloudWatch job metrics" in why["why"]


def test_spark_properties_and_stage_names_keep_no_secret():
    secret = "Sup3rS3cretValue!x9"
    profile = AppProfile(executors=1, cores=1, seed=1, properties={
        "spark.glue.JOB_NAME": "orders", "spark.hadoop.fs.s3a.secret.key": secret,
        "spark.sql.shuffle.partitions": f"password={secret}"},
        stages=(SimStage(0, 0, 2, 1000, name=f'jdbc at job.py:12 password="{secret}"'),))
    summary = _summary(profile)
    assert secret not in repr(summary)
    assert summary["properties"]["spark.glue.JOB_NAME"] == "orders"
    assert "spark.hadoop.fs.s3a.secret.key" not in summary["properties"]
