"""Capacity, billing minimums, DPU-hours and cost of runs; expectations computed by hand."""

from __future__ import annotations

import pytest

from glue_inventory.analysis.cost.dpu_estimate import (
    billing_minimum_s,
    capacity_dpu,
    job_capacity_dpu,
    run_cost_usd,
    run_dpu_hours,
)
from glue_inventory.analysis.types import JobRun, JobSpec
from glue_inventory.config import Pricing

SPARK_4 = JobSpec(name="spark4", job_type="glueetl", worker_type="G.1X", number_of_workers=10,
                  glue_version="4.0")
SPARK_2 = JobSpec(name="spark2", job_type="glueetl", worker_type="G.1X", number_of_workers=10,
                  glue_version="2.0")
SPARK_1 = JobSpec(name="spark1", job_type="glueetl", max_capacity=10.0, glue_version="1.0")
SPARK_NO_VERSION = JobSpec(name="old", job_type="glueetl", max_capacity=10.0)
SHELL_SMALL = JobSpec(name="shell", job_type="pythonshell", max_capacity=0.0625, glue_version="3.0")
SHELL_ONE = JobSpec(name="shell1", job_type="pythonshell", max_capacity=1.0, glue_version="1.0")


def run(state: str = "SUCCEEDED", **fields) -> JobRun:
    return JobRun(run_id="jr_1", state=state, **fields)


@pytest.mark.parametrize(
    ("worker_type", "workers", "max_capacity", "expected"),
    [
        ("Standard", 5, None, 5 * 1.0),
        ("G.025X", 4, None, 4 * 0.25),
        ("G.1X", 10, 10.0, 10 * 1.0),
        ("G.2X", 10, 20.0, 10 * 2.0),
        ("G.4X", 2, None, 2 * 4.0),
        ("G.8X", 2, None, 2 * 8.0),
        ("G.12X", 2, None, 2 * 12.0),
        ("G.16X", 2, None, 2 * 16.0),
        ("R.1X", 3, None, 3 * 1.0),
        ("R.2X", 3, None, 3 * 2.0),
        ("R.4X", 3, None, 3 * 4.0),
        ("R.8X", 3, None, 3 * 8.0),
        ("Z.2X", 3, 6.0, 3 * 2.0),
        (None, None, 10.0, 10.0),
        (None, None, 0.0625, 0.0625),
        (None, None, 1.0, 1.0),
        ("G.99X", 5, 7.0, 7.0),  # a worker type newer than the table: MaxCapacity says it
        ("G.1X", None, 3.0, 3.0),
        (None, None, None, 0.0),
    ],
)
def test_capacity_dpu(worker_type, workers, max_capacity, expected):
    assert capacity_dpu(worker_type, workers, max_capacity) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        (JobSpec(name="etl", job_type="glueetl"), 10.0),
        (JobSpec(name="none"), 10.0),
        (JobSpec(name="shell", job_type="pythonshell"), 0.0625),
        (SHELL_ONE, 1.0),
    ],
)
def test_job_capacity_defaults_when_the_definition_has_none(job, expected):
    assert job_capacity_dpu(job) == expected


@pytest.mark.parametrize(
    ("job_type", "glue_version", "expected"),
    [
        ("glueetl", "0.9", 600),
        ("glueetl", "1.0", 600),
        ("glueetl", "1", 600),
        ("glueetl", None, 600),
        ("glueetl", "", 600),
        ("gluestreaming", "1.0", 600),
        (None, None, 600),
        ("glueetl", "2.0", 60),
        ("glueetl", "3.0", 60),
        ("glueetl", "4.0", 60),
        ("glueetl", "5.0", 60),
        ("glueray", "4.0", 60),
        ("pythonshell", None, 60),
        ("pythonshell", "1.0", 60),
        ("pythonshell", "3.0", 60),
    ],
)
def test_billing_minimum(job_type, glue_version, expected):
    assert billing_minimum_s(job_type, glue_version) == expected


@pytest.mark.parametrize(
    ("job", "job_run", "expected"),
    [
        pytest.param(SPARK_4, run(execution_time_s=117), 117 * 10 / 3600, id="over-minimum"),
        pytest.param(SPARK_2, run(execution_time_s=30), 60 * 10 / 3600, id="2.0-one-minute-minimum"),
        pytest.param(SPARK_1, run(execution_time_s=117), 600 * 10 / 3600, id="1.0-ten-minute-minimum"),
        pytest.param(SPARK_1, run(execution_time_s=601), 601 * 10 / 3600, id="1.0-over-minimum"),
        pytest.param(SPARK_NO_VERSION, run(execution_time_s=300), 600 * 10 / 3600, id="no-version-is-0.9"),
        pytest.param(SHELL_SMALL, run(execution_time_s=30), 60 * 0.0625 / 3600, id="shell-0.0625"),
        pytest.param(SHELL_ONE, run(execution_time_s=49), 60 * 1 / 3600, id="shell-on-1.0-one-minute"),
        pytest.param(SHELL_SMALL, run(execution_time_s=71), 71 * 0.0625 / 3600, id="shell-over-minimum"),
        pytest.param(SPARK_4, run(execution_time_s=5, dpu_seconds=1234.5), 1234.5 / 3600, id="dpu-seconds"),
        pytest.param(SPARK_4, run("RUNNING", execution_time_s=500), 0.0, id="running"),
        pytest.param(SPARK_4, run("STARTING", execution_time_s=0), 0.0, id="starting"),
        pytest.param(SPARK_4, run("STOPPING", execution_time_s=40), 0.0, id="stopping"),
        pytest.param(SPARK_4, run("WAITING"), 0.0, id="waiting"),
        pytest.param(SPARK_4, run("RUNNING", dpu_seconds=900.0), 0.0, id="running-with-dpu-seconds"),
        pytest.param(SPARK_4, run(), 0.0, id="no-execution-time"),
        pytest.param(SPARK_4, run(execution_time_s=0), 60 * 10 / 3600, id="zero-time-billed-minimum"),
        pytest.param(SPARK_1, run("FAILED", execution_time_s=0), 600 * 10 / 3600, id="failed-zero-on-1.0"),
        pytest.param(SPARK_NO_VERSION, run("STOPPED", execution_time_s=0), 600 * 10 / 3600,
                     id="stopped-zero"),
        pytest.param(
            SPARK_4, run(execution_time_s=100, worker_type="G.2X", number_of_workers=20),
            100 * 40 / 3600, id="run-workers-override-job",
        ),
        pytest.param(SPARK_4, run(execution_time_s=100, max_capacity=5.0), 100 * 5 / 3600,
                     id="run-max-capacity-overrides-job-workers"),
        pytest.param(SPARK_4, run(execution_time_s=100, glue_version="1.0"), 600 * 10 / 3600,
                     id="run-glue-version-overrides-job"),
        pytest.param(SPARK_1, run(execution_time_s=30, glue_version="3.0"), 60 * 10 / 3600,
                     id="run-on-newer-version-than-job"),
        pytest.param(JobSpec(name="bare", job_type="glueetl", glue_version="3.0"), run(execution_time_s=120),
                     120 * 10 / 3600, id="no-capacity-anywhere-spark-default"),
    ],
)
def test_run_dpu_hours(job, job_run, expected):
    assert run_dpu_hours(job_run, job) == pytest.approx(expected)


PRICING = Pricing(
    standard={"default": 0.44, "test-region-1": 0.5},
    flex={"default": 0.29, "test-region-1": 0.3},
)
SPARK_4_FLEX = JobSpec(name="flex", job_type="glueetl", worker_type="G.1X", number_of_workers=10,
                       glue_version="4.0", execution_class="FLEX")


@pytest.mark.parametrize(
    ("job", "job_run", "region", "expected"),
    [
        pytest.param(SPARK_4, run(execution_time_s=117), "us-east-1", 117 * 10 / 3600 * 0.44, id="standard"),
        pytest.param(SPARK_4_FLEX, run(execution_time_s=117), "us-east-1", 117 * 10 / 3600 * 0.29,
                     id="job-flex"),
        pytest.param(SPARK_4, run(dpu_seconds=3600.0, execution_class="FLEX"), "us-east-1", 1 * 0.29,
                     id="run-flex-with-dpu-seconds"),
        pytest.param(SPARK_4_FLEX, run(execution_time_s=117, execution_class="STANDARD"), "us-east-1",
                     117 * 10 / 3600 * 0.44, id="run-standard-overrides-flex-job"),
        pytest.param(SPARK_4, run(execution_time_s=360), "test-region-1", 360 * 10 / 3600 * 0.5,
                     id="regional-standard"),
        pytest.param(SPARK_4_FLEX, run(execution_time_s=360), "test-region-1", 360 * 10 / 3600 * 0.3,
                     id="regional-flex"),
        pytest.param(SPARK_1, run(execution_time_s=0), "us-east-1", 600 * 10 / 3600 * 0.44, id="minimum"),
        pytest.param(SPARK_4, run("RUNNING", execution_time_s=50), "us-east-1", 0.0, id="running-free"),
    ],
)
def test_run_cost(job, job_run, region, expected):
    assert run_cost_usd(job_run, job, region, PRICING) == pytest.approx(expected)


def test_cost_is_not_rounded_to_cents():
    cost = run_cost_usd(run(execution_time_s=61), SHELL_SMALL, "us-east-1", Pricing())
    assert cost == pytest.approx(61 * 0.0625 / 3600 * 0.44)
    assert cost != round(cost, 2)
