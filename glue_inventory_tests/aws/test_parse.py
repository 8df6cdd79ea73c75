"""Parsing recorded Glue responses (placebo, AWS CLI, Step Functions) and fuzzing the parsers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glue_inventory.analysis.cost.dpu_estimate import billing_minimum_s, job_capacity_dpu, run_dpu_hours
from glue_inventory.analysis.status import is_eol
from glue_inventory.analysis.types import JobRun, JobSpec
from glue_inventory.aws.parse import (
    jobs_in_response,
    load_placebo,
    parse_job,
    parse_job_run,
    parse_tags,
    parse_timestamp,
    runs_in_response,
)

# The project's own fixtures, written with neutral values in the shapes AWS, placebo and the CLI produce
# (fixtures/recorded/README.md).
RECORDED = Path(__file__).resolve().parent.parent / "fixtures" / "recorded"

# Every recorded file and the (jobs, runs) it holds: a new file fails here until it is described.
EXPECTED_COUNTS = {
    "cli/batch-stop-job-run.output.json": (0, 0),
    "cli/create-job.output.json": (1, 0),
    "cli/get-job-run.output.json": (0, 1),
    "cli/get-job-runs.output.json": (0, 3),
    "cli/get-job-runs.python-shell.output.json": (0, 1),
    "cli/get-job.output.json": (1, 0),
    "cli/start-job-run.output.json": (0, 0),
    "placebo/glue09_job_delete/glue.DeleteJob_1.json": (0, 0),
    "placebo/glue09_job_delete/glue.GetJobs_1.json": (1, 0),
    "placebo/glue09_job_delete/glue.GetJobs_2.json": (0, 0),
    "placebo/glue09_job_delete/tagging.GetResources_1.json": (0, 0),
    "placebo/job_tags/glue.GetTags_1.json": (0, 0),
    "placebo/job_tags/tagging.GetResources_1.json": (0, 0),
    "placebo/job_tags/tagging.TagResources_1.json": (0, 0),
    "placebo/job_untag/glue.GetTags_1.json": (0, 0),
    "placebo/job_untag/tagging.UntagResources_1.json": (0, 0),
    "placebo/jobs_with_execution_class/glue.GetJobs_1.json": (3, 0),
    "placebo/jobs_with_execution_class/glue.UpdateJob_1.json": (0, 0),
    "placebo/jobs_without_execution_class/glue.GetJobs_1.json": (3, 0),
    "placebo/jobs_without_execution_class/glue.UpdateJob_1.json": (0, 0),
    "placebo/jobs_without_execution_class/tagging.GetResources_1.json": (0, 0),
    "stepfunctions/startJobRun.sync.output.json": (0, 0),  # wrapped: see below
}


def recorded(name: str) -> dict:
    return load_placebo(RECORDED / name)


def job_named(name: str, file: str) -> JobSpec:
    return next(job for job in jobs_in_response(recorded(file)) if job.name == name)


def all_datetimes(record: JobSpec | JobRun) -> list[datetime]:
    values = record._asdict().values() if isinstance(record, JobRun) else vars(record).values()
    return [value for value in values if isinstance(value, datetime)]


def test_every_recorded_file_is_described():
    files = {str(path.relative_to(RECORDED)) for path in RECORDED.rglob("*.json")}
    assert files == set(EXPECTED_COUNTS)


@pytest.mark.parametrize(("name", "counts"), sorted(EXPECTED_COUNTS.items()))
def test_every_recorded_file_parses(name, counts):
    response = recorded(name)
    jobs, runs = jobs_in_response(response), runs_in_response(response)
    assert (len(jobs), len(runs)) == counts
    for record in [*jobs, *runs]:
        for value in all_datetimes(record):
            assert value.tzinfo is UTC


def test_old_job_without_glue_version_or_worker_type():
    job = job_named("test", "placebo/glue09_job_delete/glue.GetJobs_1.json")
    assert job == JobSpec(
        name="test",
        job_type="glueetl",
        max_capacity=10.0,
        script_location="s3://aws-glue-scripts-123456789012-us-east-1/etl/test",
        created_on=datetime(2019, 6, 11, 14, 33, 47, 862000, tzinfo=UTC),
        last_modified_on=datetime(2019, 6, 11, 15, 22, 29, 787000, tzinfo=UTC),
        default_arguments={
            "--TempDir": "s3://aws-glue-temporary-123456789012-us-east-1/etl",
            "--job-bookmark-option": "job-bookmark-disable",
            "--job-language": "python",
        },
        role="arn:aws:iam::123456789012:role/AWSGlueServiceRole-test",
        timeout_minutes=2880,
    )
    assert job_capacity_dpu(job) == 10.0
    assert billing_minimum_s(job.job_type, job.glue_version) == 600
    assert is_eol(job.glue_version, ["0.9", "1.0", "2.0"]) is True


def test_ray_job_on_z_workers():
    job = job_named("test-job-2", "placebo/jobs_with_execution_class/glue.GetJobs_1.json")
    assert (job.job_type, job.worker_type, job.number_of_workers, job.max_capacity) == ("glueray", "Z.2X", 3, 6.0)
    assert (job.glue_version, job.execution_class, job.python_version) == ("4.0", "STANDARD", "3.9")
    assert job.default_arguments == {}
    assert job_capacity_dpu(job) == 3 * 2.0


def test_scala_and_streaming_jobs():
    scala = job_named("test-job-3", "placebo/jobs_with_execution_class/glue.GetJobs_1.json")
    assert scala.default_arguments["--job-language"] == "scala"
    streaming = job_named("my-testing-job", "placebo/jobs_without_execution_class/glue.GetJobs_1.json")
    assert (streaming.job_type, streaming.glue_version, streaming.python_version) == ("gluestreaming", "0.9", "2")
    assert streaming.execution_class is None


def test_workers_rule_over_max_capacity():
    # Glue 1.0 with workers reports MaxCapacity 11 for 10 G.1X workers; the design counts the workers.
    job = job_named("testjob2", "placebo/jobs_without_execution_class/glue.GetJobs_1.json")
    assert (job.worker_type, job.number_of_workers, job.max_capacity) == ("G.1X", 10, 11.0)
    assert job_capacity_dpu(job) == 10 * 1.0


def test_cli_get_job_with_epoch_seconds():
    (job,) = jobs_in_response(recorded("cli/get-job.output.json"))
    assert job.created_on == datetime(2020, 10, 15, 23, 48, 18, 167000, tzinfo=UTC)
    assert (job.job_type, job.glue_version, job.max_capacity) == ("gluestreaming", "1.0", 10.0)
    assert job.default_arguments == {"--class": "GlueApp", "--job-language": "scala"}


def test_create_job_output_is_a_name_only():
    assert jobs_in_response(recorded("cli/create-job.output.json")) == [JobSpec(name="my-testing-job")]


def test_cli_get_job_runs():
    runs = runs_in_response(recorded("cli/get-job-runs.output.json"))
    assert [(run.state, run.attempt, run.execution_time_s) for run in runs] == [
        ("SUCCEEDED", 0, 117), ("FAILED", 2, 110), ("FAILED", 1, 113)]
    latest = runs[0]
    assert latest.started_on == datetime(2020, 10, 16, 18, 45, 31, 255000, tzinfo=UTC)
    assert latest.completed_on == datetime(2020, 10, 16, 18, 47, 55, 985000, tzinfo=UTC)
    assert (latest.worker_type, latest.number_of_workers, latest.glue_version) == ("G.1X", 10, "2.0")
    assert runs[1].started_on == datetime(2020, 10, 16, 1, 19, 28, 496000, tzinfo=UTC)
    assert runs[1].error_message.startswith("An error occurred while calling o122.pyWriteDynamicFrame.")
    job = JobSpec(name="my-testing-job", job_type="glueetl")
    assert run_dpu_hours(latest, job) == pytest.approx(117 * 10 / 3600)


def test_cli_get_job_run():
    (run,) = runs_in_response(recorded("cli/get-job-run.output.json"))
    assert run.run_id == "jr_012e176506505074d94d761755e5c62538ee1aad6f17d39f527e9140cf0c9a5e"
    assert run.dpu_seconds is None


def test_python_shell_run_with_iso_offsets():
    (run,) = runs_in_response(recorded("cli/get-job-runs.python-shell.output.json"))
    assert run.started_on == datetime(2026, 7, 6, 14, 55, 20, 582000, tzinfo=UTC)  # 23:55:20.582+09:00
    assert (run.max_capacity, run.glue_version, run.execution_time_s) == (0.0625, "5.1", 71)
    job = JobSpec(name="python-shell-job", job_type="pythonshell")
    assert run_dpu_hours(run, job) == pytest.approx(71 * 0.0625 / 3600)


def test_step_functions_result_with_epoch_milliseconds():
    run = parse_job_run(recorded("stepfunctions/startJobRun.sync.output.json")
                        ["glue_job_result"])
    assert run.started_on == datetime(2021, 11, 30, 18, 13, 25, 295000, tzinfo=UTC)
    assert run.completed_on == datetime(2021, 11, 30, 18, 14, 19, 130000, tzinfo=UTC)
    assert (run.state, run.max_capacity, run.glue_version, run.execution_time_s) == ("SUCCEEDED", 1.0, "1.0", 49)
    job = JobSpec(name="Feature Engineering", job_type="pythonshell")
    assert run_dpu_hours(run, job) == pytest.approx(60 * 1 / 3600)


@pytest.mark.parametrize(
    ("file", "key", "expected"),
    [
        ("placebo/job_tags/glue.GetTags_1.json", None, {"abcd": "xyz"}),
        ("placebo/job_untag/glue.GetTags_1.json", None, {}),
        ("placebo/job_tags/tagging.GetResources_1.json", 0, {"abcd": "xyz"}),
        ("placebo/glue09_job_delete/tagging.GetResources_1.json", 0, {}),
    ],
)
def test_recorded_tags(file, key, expected):
    response = recorded(file)
    tags = response["Tags"] if key is None else response["ResourceTagMappingList"][key]["Tags"]
    assert parse_tags(tags) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 5, 23, 23, 6, 13, 471000), datetime(2024, 5, 23, 23, 6, 13, 471000, tzinfo=UTC)),
        (datetime(2024, 5, 24, 1, 6, 13, tzinfo=timezone(timedelta(hours=2))),
         datetime(2024, 5, 23, 23, 6, 13, tzinfo=UTC)),
        ("2024-05-23T23:06:13.471000+00:00", datetime(2024, 5, 23, 23, 6, 13, 471000, tzinfo=UTC)),
        ("2024-05-23T23:06:13Z", datetime(2024, 5, 23, 23, 6, 13, tzinfo=UTC)),
        ("2024-05-23T18:06:13-05:00", datetime(2024, 5, 23, 23, 6, 13, tzinfo=UTC)),
        (1602873931.255, datetime(2020, 10, 16, 18, 45, 31, 255000, tzinfo=UTC)),
        (1602873931, datetime(2020, 10, 16, 18, 45, 31, tzinfo=UTC)),
        (1638296005295, datetime(2021, 11, 30, 18, 13, 25, 295000, tzinfo=UTC)),
        ("1602873931", datetime(2020, 10, 16, 18, 45, 31, tzinfo=UTC)),
        ({"__class__": "datetime", "year": 2019, "month": 6, "day": 11, "hour": 14, "minute": 33,
          "second": 47, "microsecond": 862000}, datetime(2019, 6, 11, 14, 33, 47, 862000, tzinfo=UTC)),
        (None, None),
    ],
)
def test_timestamps(value, expected):
    parsed = parse_timestamp(value)
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is UTC


@pytest.mark.parametrize("value", ["yesterday", "", True, [2024], {"year": 2024}, float("nan"), 1e300,
                                   {"__class__": "datetime", "year": 2024, "month": 13, "day": 1}])
def test_bad_timestamps(value):
    with pytest.raises(ValueError, match="when"):
        parse_timestamp(value, "when")


@pytest.mark.parametrize(
    ("record", "parser", "match"),
    [
        ({}, parse_job, "Job.Name: missing"),
        ({"Name": 3}, parse_job, "Job.Name: expected a string"),
        ([], parse_job, "expected an object"),
        ({"Name": "j", "NumberOfWorkers": "10"}, parse_job, "NumberOfWorkers: expected a non-negative number"),
        ({"Name": "j", "NumberOfWorkers": 2.5}, parse_job, "NumberOfWorkers: expected a whole number"),
        ({"Name": "j", "MaxCapacity": True}, parse_job, "MaxCapacity"),
        ({"Name": "j", "Command": "glueetl"}, parse_job, "Command: expected an object"),
        ({"Name": "j", "Tags": [{"Value": "x"}]}, parse_job, r"Tags\[0\].Key: missing"),
        ({"Id": "jr"}, parse_job_run, "JobRunState are required"),
        ({"Id": "jr", "JobRunState": "SUCCEEDED", "ExecutionTime": -1}, parse_job_run, "ExecutionTime"),
        ({"Id": "jr", "JobRunState": "SUCCEEDED", "StartedOn": "soon"}, parse_job_run, "StartedOn"),
        # Epoch numbers as Glue sends them, out of any date's range (seconds, and milliseconds past 1e11).
        ({"Id": "jr", "JobRunState": "SUCCEEDED", "StartedOn": 1e18},
         parse_job_run, r"JobRun 'jr'.StartedOn: not an ISO-8601 date or epoch number"),
        ({"Id": "jr", "JobRunState": "SUCCEEDED", "CompletedOn": -10**20},
         parse_job_run, r"JobRun 'jr'.CompletedOn: not an ISO-8601 date or epoch number"),
        ({"Id": "jr", "JobRunState": "SUCCEEDED", "CompletedOn": float("nan")},
         parse_job_run, r"JobRun 'jr'.CompletedOn: not an ISO-8601 date or epoch number"),
    ],
)
def test_malformed_records(record, parser, match):
    with pytest.raises(ValueError, match=match):
        parser(record)


def test_errors_never_echo_argument_values():
    with pytest.raises(ValueError, match="DefaultArguments") as error:
        parse_job({"Name": "j", "DefaultArguments": {"--password": ["hunter2-Secret"]}})
    assert "hunter2" not in str(error.value)


def test_optional_fields_may_be_missing():
    assert parse_job({"Name": "j"}) == JobSpec(name="j")
    assert parse_job_run({"Id": "jr", "JobRunState": "RUNNING"}) == JobRun(run_id="jr", state="RUNNING")


def test_allocated_capacity_stands_in_for_max_capacity():
    assert parse_job({"Name": "j", "AllocatedCapacity": 5}).max_capacity == 5.0
    assert parse_job_run({"Id": "r", "JobRunState": "SUCCEEDED", "AllocatedCapacity": 0}).max_capacity is None


def test_load_placebo_rejects_a_non_object(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match="expected a JSON object"):
        load_placebo(path)


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
JSON = st.recursive(
    JSON_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                               max_size=4),
    max_leaves=12,
)
TIMESTAMPS = (st.integers(min_value=-10**15, max_value=10**15) | st.floats()
              | st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()) | JSON)
JOB_DICTS = st.fixed_dictionaries({}, optional={
    "Name": st.text(max_size=20) | JSON,
    "Command": st.fixed_dictionaries({}, optional={"Name": JSON, "ScriptLocation": JSON, "PythonVersion": JSON})
    | JSON,
    "WorkerType": st.sampled_from(["G.1X", "Z.2X", "Standard"]) | JSON,
    "NumberOfWorkers": JSON,
    "MaxCapacity": JSON,
    "AllocatedCapacity": JSON,
    "GlueVersion": JSON,
    "ExecutionClass": JSON,
    "CreatedOn": TIMESTAMPS,
    "LastModifiedOn": TIMESTAMPS,
    "DefaultArguments": st.dictionaries(st.text(max_size=10), st.text(max_size=10)) | JSON,
    "Tags": st.dictionaries(st.text(max_size=10), st.text(max_size=10)) | JSON,
    "Timeout": JSON,
    "Role": JSON,
})
RUN_DICTS = st.fixed_dictionaries({}, optional={
    "Id": st.text(max_size=20) | JSON,
    "JobRunState": st.sampled_from(["SUCCEEDED", "RUNNING"]) | JSON,
    "StartedOn": TIMESTAMPS,
    "CompletedOn": TIMESTAMPS,
    "ExecutionTime": JSON,
    "DPUSeconds": JSON,
    "WorkerType": JSON,
    "NumberOfWorkers": JSON,
    "MaxCapacity": JSON,
    "AllocatedCapacity": JSON,
    "GlueVersion": JSON,
    "ExecutionClass": JSON,
    "ErrorMessage": JSON,
    "Attempt": JSON,
})


def parses_or_value_error(parser, record, kind):
    try:
        parsed = parser(record)
    except ValueError:
        return
    assert isinstance(parsed, kind)
    for value in all_datetimes(parsed):
        assert value.tzinfo is UTC


@settings(max_examples=300, deadline=None)
@given(JOB_DICTS | JSON)
def test_fuzz_parse_job(record):
    parses_or_value_error(parse_job, record, JobSpec)


@settings(max_examples=300, deadline=None)
@given(RUN_DICTS | JSON)
def test_fuzz_parse_job_run(record):
    parses_or_value_error(parse_job_run, record, JobRun)


@settings(max_examples=100, deadline=None)
@given(st.fixed_dictionaries({"Jobs": st.lists(JOB_DICTS, max_size=3) | JSON}) | JSON)
def test_fuzz_jobs_in_response(response):
    try:
        assert all(isinstance(job, JobSpec) for job in jobs_in_response(response))
    except ValueError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.fixed_dictionaries({"JobRuns": st.lists(RUN_DICTS, max_size=3) | JSON}) | JSON)
def test_fuzz_runs_in_response(response):
    try:
        assert all(isinstance(run, JobRun) for run in runs_in_response(response))
    except ValueError:
        pass
