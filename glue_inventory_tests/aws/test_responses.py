"""The planned JSON parser gives exactly what botocore's parser gives, on the simulator's answers and on
answers with what a real service may send (nulls, members the model does not know, nested structures); a
GetJobRuns page comes as Glue sent it, and its runs parse to what botocore's answer gives."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.parsers import JSONParser

from glue_inventory.aws.clients import platform_sessions, utc_timestamp
from glue_inventory.aws.parse import runs_in_response
from glue_inventory.aws.responses import AS_SENT, PlannedJSONParser, PlannedParserFactory
from glue_inventory.config import PlatformConfig


def _both(operation, body: bytes) -> tuple[dict, dict]:
    response = {"body": body, "headers": {"x-amzn-requestid": "r-1"}, "status_code": 200,
                "context": {"operation_name": operation.name}}
    slow = JSONParser(timestamp_parser=utc_timestamp).parse(dict(response), operation.output_shape)
    fast = PlannedJSONParser(timestamp_parser=utc_timestamp).parse(dict(response), operation.output_shape)
    return slow, fast


def _same(operation, slow: dict, fast: dict) -> None:
    """The same answer; for a page returned as sent, the same runs (and token) as the tool reads them."""
    if operation.output_shape.name not in AS_SENT:
        assert fast == slow, operation.name
        return
    assert runs_in_response(fast) == runs_in_response(slow)
    assert fast.get("NextToken") == slow.get("NextToken") or not (fast.get("NextToken") or slow.get("NextToken"))
    assert fast["ResponseMetadata"] == slow["ResponseMetadata"]


def _operation(service: str, name: str):
    return botocore.session.get_session().get_service_model(service).operation_model(name)


def test_the_simulators_answers_parse_the_same(simulator, sim_env):
    """Every answer a listing and a run-history fetch receive, captured off the wire and parsed both ways."""
    session = platform_sessions([PlatformConfig(name="sim", regions=["us-east-1"],
                                                endpoint_url=sim_env["AWS_ENDPOINT_URL"])])[0]
    captured: list[tuple] = []

    def capture(operation_model, response_dict, **_):
        captured.append((operation_model, response_dict["body"]))

    glue, tagging = session.client("glue"), session.client("resourcegroupstaggingapi")
    for client in (glue, tagging):
        client.meta.events.register("before-parse", capture)
    jobs = glue.get_jobs(MaxResults=25)["Jobs"]
    tagging.get_resources(ResourceTypeFilters=["glue:job"], TagsPerPage=100)
    for job in jobs:
        glue.get_job_runs(JobName=job["Name"], MaxResults=200)
    glue.get_job(JobName=jobs[0]["Name"])
    assert {operation.name for operation, _ in captured} == {"GetJobs", "GetResources", "GetJobRuns", "GetJob"}
    runs = 0
    for operation, body in captured:
        slow, fast = _both(operation, body)
        _same(operation, slow, fast)
        runs += len(slow.get("JobRuns", []))
    assert runs > 100


RUN = {
    "Id": "jr_1", "Attempt": 0, "JobName": "nightly", "StartedOn": 1700000000.5, "CompletedOn": 1700000123,
    "LastModifiedOn": 1700000123.25, "JobRunState": "FAILED", "Arguments": {"--day": "1", "--empty": ""},
    "ErrorMessage": None, "PredecessorRuns": [{"JobName": "upstream", "RunId": None}, None],
    "NotificationProperty": {"NotifyDelayAfter": None}, "ExecutionTime": 123, "MaxCapacity": 2.0,
    "WorkerType": "G.1X", "NumberOfWorkers": 2, "DPUSeconds": 246.0, "ExecutionClass": "FLEX",
    "AFieldAwsAddsLater": {"nested": [1, 2]}, "Timeout": None,
}


@pytest.mark.parametrize(("service", "name", "answer"), [
    ("glue", "GetJobRuns", {"JobRuns": [RUN, RUN | {"Id": "jr_2", "Arguments": None},
                                        RUN | {"Id": "jr_3", "PredecessorRuns": [], "Arguments": {}}],
                            "NextToken": "t"}),
    ("glue", "GetJobRuns", {"JobRuns": [], "NextToken": None}),
    ("glue", "GetJobRun", {"JobRun": RUN}),
    ("glue", "GetJobs", {"Jobs": [{
        "Name": "j", "Role": "arn:aws:iam::1:role/r", "CreatedOn": 1600000000, "LastModifiedOn": "2024-03-01T01:30:00Z",
        "Command": {"Name": "glueetl", "ScriptLocation": "s3://b/k.py", "PythonVersion": "3", "Runtime": None},
        "DefaultArguments": {"--job-bookmark-option": "job-bookmark-enable"}, "Connections": {"Connections": ["c"]},
        "ExecutionProperty": {"MaxConcurrentRuns": 1}, "MaxRetries": 0, "GlueVersion": "4.0", "Unknown": 1,
        "CodeGenConfigurationNodes": {"node_1": {"S3CsvSource": {"Name": "in", "Paths": ["s3://b/in/"],
                                                                 "Separator": "comma", "QuoteChar": "quote"}}},
    }]}),
    ("resourcegroupstaggingapi", "GetResources", {"ResourceTagMappingList": [
        {"ResourceARN": "arn:aws:glue:us-east-1:1:job/j", "Tags": [{"Key": "team", "Value": "data"}]},
        {"ResourceARN": "arn:aws:glue:us-east-1:1:job/k", "Tags": [], "ComplianceDetails": None}],
        "PaginationToken": ""}),
])
def test_answers_with_nulls_and_unknown_members_parse_the_same(service, name, answer):
    operation = _operation(service, name)
    slow, fast = _both(operation, json.dumps(answer).encode())
    _same(operation, slow, fast)


def test_a_run_history_page_comes_as_glue_sent_it():
    """Not walked: epoch seconds stay numbers (aws.parse reads them), a null stays; another answer holding the
    same runs (GetJobRun) is still converted."""
    body = json.dumps({"JobRuns": [RUN], "NextToken": None}).encode()
    page = _both(_operation("glue", "GetJobRuns"), body)[1]
    assert page["JobRuns"][0]["StartedOn"] == RUN["StartedOn"] and page["JobRuns"][0]["ErrorMessage"] is None
    assert page["NextToken"] is None
    not_an_object = {"body": b'["not", "an", "object"]', "headers": {}, "status_code": 200, "context": {}}
    assert "JobRuns" not in PlannedJSONParser().parse(not_an_object, _operation("glue", "GetJobRuns").output_shape)
    one = _both(_operation("glue", "GetJobRun"), json.dumps({"JobRun": RUN}).encode())[1]
    assert one["JobRun"]["StartedOn"] == utc_timestamp(RUN["StartedOn"])


def test_sessions_use_the_planned_parser():
    session = platform_sessions([PlatformConfig(name="p", regions=["us-east-1"])])[0]
    factory = session.client("glue")._endpoint._response_parser_factory  # noqa: SLF001 - what botocore uses
    assert isinstance(factory, PlannedParserFactory)
    assert isinstance(factory.create_parser("json"), PlannedJSONParser)
    assert not isinstance(factory.create_parser("query"), PlannedJSONParser)


@pytest.mark.parametrize("body", [
    b'{"JobRun": {"Id": "jr_1", "JobRunState": "SUCCEEDED", "DPUSeconds": NaN}}',  # json reads it, orjson not
    b'{"JobRun": {"Id": "jr_\\u00e9", "JobRunState": "SUCCEEDED", "ErrorMessage": "caf\xc3\xa9"}}',
    b"<html>502 Bad Gateway</html>",
    b"",
])
def test_bodies_orjson_refuses_parse_as_botocore_parses_them(body):
    """The body is decoded with orjson; what it refuses (NaN, no JSON at all) is
    decoded by botocore, so the answer is still what botocore gives (repr: NaN is not equal to itself)."""
    slow, fast = _both(_operation("glue", "GetJobRun"), body)
    assert repr(fast) == repr(slow)


def test_a_run_history_page_orjson_refuses_is_decoded_and_its_bad_number_refused():
    """A page as sent is decoded the same way (NaN by the json module); the run's parse then names the field."""
    body = b'{"JobRuns": [{"Id": "jr_1", "JobRunState": "SUCCEEDED", "DPUSeconds": NaN}]}'
    fast = _both(_operation("glue", "GetJobRuns"), body)[1]
    with pytest.raises(ValueError, match=r"JobRun 'jr_1'.DPUSeconds: expected a non-negative number"):
        runs_in_response(fast)
