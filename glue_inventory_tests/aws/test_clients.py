"""Our boto3 sessions: timestamps come back in UTC whatever the local zone, from epoch numbers and text; requests
name the tool."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from importlib.metadata import version

import boto3
import botocore
import botocore.session
import pytest

from glue_inventory.aws.clients import new_session, platform_sessions, utc_timestamp
from glue_inventory.aws.parse import runs_in_response
from glue_inventory.config import PlatformConfig


@pytest.mark.parametrize(("value", "expected"), [
    (0, datetime(1970, 1, 1, tzinfo=UTC)),
    (1700000000.123, datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)),
    ("2024-02-29T23:30:00Z", datetime(2024, 2, 29, 23, 30, tzinfo=UTC)),
    ("2024-03-01T01:30:00+02:00", datetime(2024, 2, 29, 23, 30, tzinfo=UTC)),
])
def test_utc_timestamp(value, expected):
    parsed = utc_timestamp(value)
    assert parsed == expected and parsed.utcoffset() == timedelta(0)


def test_job_runs_arrive_as_utc_datetimes_in_any_local_zone(simulator, sim_env, monkeypatch):
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: a local-zone reading would shift the day
    time.tzset()
    try:
        session = platform_sessions([PlatformConfig(name="sim", regions=["us-east-1"],
                                                    endpoint_url=sim_env["AWS_ENDPOINT_URL"])])[0]
        job = max((j for j in simulator.fleet.jobs if j.region == "us-east-1"), key=lambda j: len(j.runs))
        page = session.client("glue").get_job_runs(JobName=job.name, MaxResults=5)
        runs = [run.started_on for run in runs_in_response(page)]  # the page as sent, read as the tool reads it
        listed = session.client("glue").get_job_run(JobName=job.name, RunId=page["JobRuns"][0]["Id"])
        expected = sorted((run.started_on for run in job.runs), reverse=True)[:5]
    finally:
        monkeypatch.undo()
        time.tzset()
    assert [started.tzinfo for started in runs] == [UTC] * 5
    assert runs == [e.replace(microsecond=e.microsecond // 1000 * 1000) for e in expected]
    assert listed["JobRun"]["StartedOn"] == runs[0] and listed["JobRun"]["StartedOn"].tzinfo is UTC


def _handlers(emitter, event: str) -> list[str]:
    """The handlers botocore would call for `event`, by name (each client's retry handler is its own object)."""
    return [getattr(handler, "__qualname__", type(handler).__name__)
            for handler in emitter._emitter._handlers.prefix_search(event)]  # noqa: SLF001 - what botocore calls


@pytest.mark.parametrize("service", ["glue", "s3", "sts", "cloudwatch"])
def test_sessions_call_every_handler_a_new_botocore_session_calls(service):
    """A session starts from a copy of botocore's built-in handlers registered once (not registered again each
    time): its clients call the same handlers for every event as a client of a fresh botocore session, and a
    handler one session adds reaches no other session."""
    ours = new_session(region_name="us-east-1")
    fresh = boto3.Session(botocore_session=botocore.session.get_session(), region_name="us-east-1")
    operation = fresh.client(service).meta.service_model.operation_names[0]
    events = [f"{stage}.{service}.{operation}" for stage in (
        "provide-client-params", "before-parameter-build", "before-call", "request-created", "before-sign",
        "before-send", "needs-retry", "after-call", "before-parse")] + [f"creating-client-class.{service}"]
    ours_client, fresh_client = ours.client(service), fresh.client(service)
    for event in events:
        assert _handlers(ours_client.meta.events, event) == _handlers(fresh_client.meta.events, event), event
    ours.events.register(f"before-call.{service}", lambda **_: None)
    assert len(_handlers(new_session().client(service, region_name="us-east-1").meta.events,
                         f"before-call.{service}.{operation}")) == len(_handlers(fresh_client.meta.events,
                                                                              f"before-call.{service}.{operation}"))


def test_requests_name_the_tool_in_their_user_agent(simulator, sim_env):
    """What CloudTrail records as `userAgent`: the tool and its version first, then the SDK's, on each request of
    a platform session's clients (each takes the session's config)."""
    session = platform_sessions([PlatformConfig(name="sim", regions=["us-east-1"],
                                                endpoint_url=sim_env["AWS_ENDPOINT_URL"])])[0]
    sent: list[str] = []
    glue = session.client("glue")
    glue.meta.events.register("before-send", lambda request, **_: sent.append(request.headers["User-Agent"].decode()))
    glue.get_jobs(MaxResults=1)
    glue.get_job_runs(JobName=simulator.fleet.jobs[0].name, MaxResults=1)
    assert len(sent) == 2
    for agent in sent:
        assert agent.startswith(f"glue-inventory/{version('glue_inventory')} Boto3/"), agent
        assert f"Botocore/{botocore.__version__}" in agent
