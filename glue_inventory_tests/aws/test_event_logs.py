"""Listing a job's Spark event logs in a shared prefix (moto's S3 behind the simulator) and reading them up to a
byte bound."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from glue_inventory.aws.event_logs import list_event_logs, object_chunks, split_path
from glue_inventory.simulate import build_fleet, start_simulator

# An account of its own: the session's simulator (other tests) serves the default one in this process.
ACCOUNT = "270000000001"
BUCKET = f"aws-glue-assets-{ACCOUNT}-us-east-1"
PATH = f"s3://{BUCKET}/sparkHistoryLogs"
T = 1_700_000_000_000


@pytest.fixture(scope="module")
def s3():
    with start_simulator(build_fleet(0, 1, datetime(2026, 11, 30, tzinfo=UTC), account_id=ACCOUNT)) as sim:
        client = boto3.client("s3", endpoint_url=sim.endpoint_url, region_name="us-east-1",
                              aws_access_key_id=sim.access_key_id, aws_secret_access_key=sim.secret_access_key)
        client.create_bucket(Bucket=BUCKET)
        keys = [f"sparkHistoryLogs/spark-application-{T - 3_600_000}.lz4",  # before the window
                f"sparkHistoryLogs/spark-application-{T}.zstd",
                f"sparkHistoryLogs/spark-application-{T + 1000}.inprogress",
                f"sparkHistoryLogs/spark-application-{T + 7_200_000}",  # after it
                "sparkHistoryLogs/other-tool.log",
                *(f"sparkHistoryLogs/eventlog_v2_spark-application-{T + 500}/events_{n}_spark-application-{T + 500}"
                  ".snappy" for n in (1, 2, 10)),
                f"sparkHistoryLogs/eventlog_v2_spark-application-{T + 500}/appstatus_spark-application-{T + 500}"]
        for number, key in enumerate(keys):
            client.put_object(Bucket=BUCKET, Key=key, Body=b"x" * (number + 1))
        yield client


def test_only_the_applications_started_in_the_window_are_listed_oldest_first(s3):
    logs = list_event_logs(s3, PATH, T - 60_000, T + 3_600_000)
    assert [log.app_id for log in logs] == [f"spark-application-{T}", f"spark-application-{T + 500}",
                                            f"spark-application-{T + 1000}"]
    single, rolled, running = logs
    assert not single.rolled and single.location == f"{PATH}/spark-application-{T}.zstd"
    assert rolled.rolled and rolled.location == f"{PATH}/eventlog_v2_spark-application-{T + 500}/"
    # Files in Spark's order (events_10 after events_2), the appstatus marker left out.
    assert [o["key"].rsplit("/", 1)[1].split("_")[1] for o in rolled.objects] == ["1", "2", "10"]
    assert running.in_progress and not single.in_progress
    assert all(o["etag"] and '"' not in o["etag"] for log in logs for o in log.objects)


def test_an_object_is_read_up_to_the_bound_and_no_further(s3):
    s3.put_object(Bucket=BUCKET, Key="sparkHistoryLogs/big", Body=b"0123456789" * 1000)
    assert b"".join(object_chunks(s3, BUCKET, "sparkHistoryLogs/big", 25)) == (b"0123456789" * 3)[:25]
    assert len(b"".join(object_chunks(s3, BUCKET, "sparkHistoryLogs/big"))) == 10_000
    assert list(object_chunks(s3, BUCKET, "sparkHistoryLogs/big", 0)) == []


def test_a_path_that_is_no_s3_url_says_what_to_set():
    assert split_path("s3://bucket/logs") == ("bucket", "logs/")
    assert split_path("s3://bucket") == ("bucket", "")
    with pytest.raises(ValueError, match="is not an s3://bucket/prefix/ URL — set it to the S3 folder"):
        split_path("/tmp/spark-events")
