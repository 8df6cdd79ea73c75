"""Our boto3 sessions: timestamps come back in UTC whatever the local zone, from epoch numbers and text."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from glue_inventory.aws.clients import platform_sessions, utc_timestamp
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
        runs = session.client("glue").get_job_runs(JobName=job.name, MaxResults=5)["JobRuns"]
        expected = sorted((run.started_on for run in job.runs), reverse=True)[:5]
    finally:
        monkeypatch.undo()
        time.tzset()
    assert [run["StartedOn"].tzinfo for run in runs] == [UTC] * 5
    assert [run["StartedOn"] for run in runs] == [e.replace(microsecond=e.microsecond // 1000 * 1000) for e in expected]
