"""Preliminary metrics of one job from a stream of runs in any order; expectations computed by hand."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from glue_inventory.analysis.metrics import flex_eligible, preliminary_metrics
from glue_inventory.analysis.types import JobRun, JobSpec
from glue_inventory.config import Settings

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SETTINGS = Settings()
FLOAT_KEYS = ("failure_rate_30d", "dpu_hours_30d", "cost_30d_usd", "failed_cost_30d_usd",
              "monthly_projection_usd", "capacity_dpu")

JOB = JobSpec(
    name="orders",
    job_type="glueetl",
    worker_type="G.1X",
    number_of_workers=10,
    glue_version="4.0",
    created_on=NOW - 400 * DAY,
    default_arguments={"--TempDir": "s3://bucket/tmp/", "--db_password": "hunter2-Secret"},
    tags={"Owner": "data-team", "env": "dev"},
)
RUNS = [
    JobRun("jr_1", "SUCCEEDED", started_on=NOW - 1 * DAY, execution_time_s=300),
    JobRun("jr_2", "FAILED", started_on=NOW - 2 * DAY, execution_time_s=30),
    JobRun("jr_3", "TIMEOUT", started_on=NOW - 3 * DAY, execution_time_s=1200),
    JobRun("jr_4", "SUCCEEDED", started_on=NOW - 4 * DAY, dpu_seconds=1800.0, execution_class="FLEX"),
    JobRun("jr_5", "RUNNING", started_on=NOW - timedelta(hours=1)),
    JobRun("jr_6", "SUCCEEDED", started_on=NOW - 45 * DAY, execution_time_s=600),
    JobRun("jr_7", "FAILED"),
]
EXPECTED = {
    "status": "active",
    "region": "us-east-1",
    "job_type": "glueetl",
    "execution_class": "STANDARD",
    "last_run_at": "2025-06-01T11:00:00+00:00",
    "last_run_state": "RUNNING",
    "runs_total": 7,
    "runs_30d": 5,
    "finished_runs_30d": 4,
    "failed_runs_30d": 2,
    "failure_rate_30d": 2 / 4,
    "dpu_hours_30d": (300 * 10 + 60 * 10 + 1200 * 10) / 3600 + 1800 / 3600,
    "cost_30d_usd": (300 * 10 + 60 * 10 + 1200 * 10) / 3600 * 0.44 + 1800 / 3600 * 0.29,
    "failed_cost_30d_usd": (60 * 10 + 1200 * 10) / 3600 * 0.44,
    "monthly_projection_usd": (300 * 10 + 60 * 10 + 1200 * 10) / 3600 * 0.44 + 1800 / 3600 * 0.29,
    "capacity_dpu": 10 * 1.0,
    "glue_version_effective": "4.0",
    "eol_version": False,
    "missing_tags": ["cost-center"],
    "secret_arguments": ["--db_password"],
    "flex_eligible": True,
}


def metrics(job: JobSpec, runs, **kwargs) -> dict:
    return preliminary_metrics(job, runs, region="us-east-1", settings=SETTINGS, now=NOW, **kwargs)


def assert_metrics(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        if key in FLOAT_KEYS:
            assert actual[key] == pytest.approx(value), key
        else:
            assert actual[key] == value, key


def test_preliminary_metrics_by_hand():
    assert_metrics(metrics(JOB, RUNS), EXPECTED)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_order_does_not_matter(seed):
    shuffled = RUNS.copy()
    random.Random(seed).shuffle(shuffled)
    assert_metrics(metrics(JOB, shuffled), EXPECTED)
    assert_metrics(metrics(JOB, reversed(RUNS)), EXPECTED)


def test_money_sums_are_identical_to_the_last_bit_in_any_order():
    # Execution times whose DPU-hours do not add up exactly in floating point (0.1 + 0.2 != 0.3).
    runs = [JobRun(run_id=f"jr_{i}", state="FAILED" if i % 3 else "SUCCEEDED",
                   started_on=NOW - timedelta(hours=i + 1), completed_on=NOW - timedelta(hours=i),
                   execution_time_s=61 + 37 * i) for i in range(60)]
    first = metrics(JOB, runs)
    for seed in range(5):
        shuffled = runs.copy()
        random.Random(seed).shuffle(shuffled)
        again = metrics(JOB, shuffled)
        assert [again[k] for k in ("dpu_hours_30d", "cost_30d_usd", "failed_cost_30d_usd")] == \
            [first[k] for k in ("dpu_hours_30d", "cost_30d_usd", "failed_cost_30d_usd")]


def test_runs_are_streamed_once():
    assert_metrics(metrics(JOB, (run for run in RUNS)), EXPECTED)


def test_the_result_is_json():
    result = metrics(JOB, RUNS)
    assert json.loads(json.dumps(result)) == result


def test_over_200_runs():
    job = JobSpec(name="busy", job_type="glueetl", worker_type="G.1X", number_of_workers=10, glue_version="4.0",
                  tags={"owner": "a", "cost-center": "b", "env": "prod"}, created_on=NOW - 400 * DAY)
    recent = (JobRun(f"jr_{i}", "SUCCEEDED", started_on=NOW - timedelta(hours=3 * i), execution_time_s=120)
              for i in range(240))
    older = (JobRun(f"jr_old_{i}", "FAILED", started_on=NOW - (31 + i) * DAY, execution_time_s=120)
             for i in range(60))
    result = metrics(job, (run for stream in (older, recent) for run in stream))
    assert result["runs_total"] == 300
    assert result["runs_30d"] == 240
    assert result["finished_runs_30d"] == 240
    assert result["failed_runs_30d"] == 0
    assert result["failure_rate_30d"] == 0.0
    assert result["dpu_hours_30d"] == pytest.approx(240 * 120 * 10 / 3600)
    assert result["cost_30d_usd"] == pytest.approx(240 * 120 * 10 / 3600 * 0.44)
    assert result["last_run_at"] == "2025-06-01T12:00:00+00:00"
    assert result["missing_tags"] == []
    assert result["flex_eligible"] is False  # env=prod


def test_window_edge_and_status_come_from_the_latest_start():
    runs = [
        JobRun("in", "FAILED", started_on=NOW - 30 * DAY, execution_time_s=60),
        JobRun("out", "FAILED", started_on=NOW - 30 * DAY - timedelta(microseconds=1), execution_time_s=60),
    ]
    result = metrics(JOB, runs)
    assert (result["runs_30d"], result["failed_runs_30d"], result["status"]) == (1, 1, "active")
    assert result["cost_30d_usd"] == pytest.approx(60 * 10 / 3600 * 0.44)
    old = metrics(JOB, [JobRun("old", "SUCCEEDED", started_on=NOW - 91 * DAY, execution_time_s=60)])
    assert (old["status"], old["runs_30d"], old["cost_30d_usd"]) == ("stale", 0, 0.0)


@pytest.mark.parametrize("order", [1, -1])
def test_retries_with_the_same_start_pick_the_later_attempt(order):
    runs = [
        JobRun("jr_a", "FAILED", started_on=NOW - DAY, attempt=0),
        JobRun("jr_a_attempt_1", "SUCCEEDED", started_on=NOW - DAY, attempt=1),
    ][::order]
    assert metrics(JOB, runs)["last_run_state"] == "SUCCEEDED"


@pytest.mark.parametrize(
    ("job_created", "created_on", "expected"),
    [
        (None, NOW - 20 * DAY, "never_run"),
        (None, NOW - 3 * DAY, "new"),
        (NOW - 3 * DAY, None, "new"),
        (NOW - 3 * DAY, NOW - 20 * DAY, "never_run"),  # the caller's date (first seen) wins
        (None, None, "never_run"),
    ],
)
def test_status_without_runs(job_created, created_on, expected):
    job = JobSpec(name="quiet", job_type="glueetl", created_on=job_created)
    result = metrics(job, [], created_on=created_on)
    assert result["status"] == expected
    assert (result["last_run_at"], result["last_run_state"], result["runs_total"]) == (None, None, 0)
    assert result["failure_rate_30d"] == 0.0


def test_old_job_without_glue_version_is_0_9_and_eol():
    job = JobSpec(name="legacy", job_type="glueetl", max_capacity=10.0)
    result = metrics(job, [JobRun("jr", "SUCCEEDED", started_on=NOW - DAY, execution_time_s=120)])
    assert result["glue_version_effective"] == "0.9"
    assert result["eol_version"] is True
    assert result["capacity_dpu"] == 10.0
    assert result["cost_30d_usd"] == pytest.approx(600 * 10 / 3600 * 0.44)
    assert result["flex_eligible"] is False


def test_python_shell_capacity():
    job = JobSpec(name="shell", job_type="pythonshell", max_capacity=0.0625, glue_version="3.0")
    result = metrics(job, [JobRun("jr", "SUCCEEDED", started_on=NOW - DAY, execution_time_s=30)])
    assert result["capacity_dpu"] == 0.0625
    assert result["dpu_hours_30d"] == pytest.approx(60 * 0.0625 / 3600)


def test_secret_argument_values_never_appear():
    result = metrics(JOB, RUNS)
    assert "hunter2-Secret" not in json.dumps(result)


def spark(**fields) -> JobSpec:
    defaults = {"name": "j", "job_type": "glueetl", "glue_version": "3.0"}
    return JobSpec(**{**defaults, **fields})


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        (spark(), True),
        (spark(glue_version="4.0", execution_class="STANDARD"), True),
        (spark(glue_version="5.0", tags={"env": "dev"}), True),
        (spark(tags={"env": "prod"}), False),
        (spark(tags={"Env": "PROD"}), False),
        (spark(tags={"env": "production"}), False),
        (spark(execution_class="FLEX"), False),
        (spark(glue_version="2.0"), False),
        (spark(glue_version=None), False),
        (spark(job_type="pythonshell"), False),
        (spark(job_type="gluestreaming"), False),
        (spark(job_type="glueray", glue_version="4.0"), False),
    ],
)
def test_flex_eligible(job, expected):
    assert flex_eligible(job) is expected
