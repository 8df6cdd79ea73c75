"""The simulator answers boto3 like AWS: pagination, tags, scripts, metrics, throttling, mutations."""

from __future__ import annotations

import http.client
import io
import json
import socket
import sys
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.core.base_backend import BackendDict

from glue_inventory.simulate import SimulatorError, build_fleet, start_simulator
from glue_inventory.simulate.server import _ArrivalStamps

PRIVATE_ACCOUNT = "210987654321"


def _client(service: str, env: dict[str, str], **config: object):
    return boto3.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], config=Config(**config))


def _all_runs(glue, name: str) -> list[dict]:
    pages = glue.get_paginator("get_job_runs").paginate(JobName=name, PaginationConfig={"PageSize": 200})
    return [run for page in pages for run in page["JobRuns"]]


def test_get_jobs_returns_every_job(simulator, sim_env):
    glue = _client("glue", sim_env)
    names = {job["Name"] for page in glue.get_paginator("get_jobs").paginate() for job in page["Jobs"]}
    assert names == {job.name for job in simulator.fleet.jobs if job.region == "us-east-1"}


def test_job_runs_paginate_and_carry_realistic_fields(simulator, sim_env):
    glue = _client("glue", sim_env)
    busiest = max(simulator.fleet.jobs, key=lambda job: len(job.runs))
    assert len(busiest.runs) > 200
    runs = _all_runs(glue, busiest.name)
    assert sorted(run["Id"] for run in runs) == sorted(run.job_run_id for run in busiest.runs)
    flex = next(job for job in simulator.fleet.jobs if job.config.execution_class == "FLEX" and job.runs
                and job.region == "us-east-1")
    finished = [run for run in _all_runs(glue, flex.name) if run["JobRunState"] != "RUNNING"]
    assert finished and all("DPUSeconds" in run for run in finished if run["ExecutionTime"] > 0)


def test_tags_scripts_triggers_and_cost_explorer(simulator, sim_env):
    tagging = _client("resourcegroupstaggingapi", sim_env)
    pages = tagging.get_paginator("get_resources").paginate(ResourceTypeFilters=["glue:job"])
    arns = {item["ResourceARN"] for page in pages for item in page["ResourceTagMappingList"]}
    tagged = {job.name for job in simulator.fleet.jobs if job.tags and job.region == "us-east-1"}
    assert {arn.split(":job/", 1)[1] for arn in arns} == tagged
    job = next(j for j in simulator.fleet.jobs if j.name == "ingest...raw")
    bucket, key = job.script_location.removeprefix("s3://").split("/", 1)
    body = _client("s3", sim_env).get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert body == job.script.text
    assert _client("glue", sim_env).get_triggers()["Triggers"]
    ce = _client("ce", sim_env).get_cost_and_usage(
        TimePeriod={"Start": "2026-01-01", "End": "2026-01-31"}, Granularity="DAILY", Metrics=["UnblendedCost"])
    assert len(ce["ResultsByTime"]) == 31


def test_call_counts_name_operations(simulator, sim_env):
    simulator.reset_call_counts()
    _client("glue", sim_env).get_jobs(MaxResults=5)
    assert simulator.call_counts["GetJobs"] == 1


def test_cloudwatch_metrics_for_recent_spark_runs(simulator, sim_env):
    truth = simulator.truth()
    job = next(j for j in simulator.fleet.jobs if truth[j.key].over_provisioned and j.region == "us-east-1")
    run = max((r for r in job.runs if r.state != "RUNNING"), key=lambda r: r.started)
    cw = _client("cloudwatch", sim_env)

    def peak(metric: str) -> float:
        result = cw.get_metric_data(
            MetricDataQueries=[{"Id": "m", "MetricStat": {"Metric": {
                "Namespace": "Glue", "MetricName": metric, "Dimensions": [
                    {"Name": "JobName", "Value": job.name}, {"Name": "JobRunId", "Value": run.job_run_id},
                    {"Name": "Type", "Value": "gauge"}]}, "Period": 3600, "Stat": "Maximum"}}],
            StartTime=run.started_on - timedelta(minutes=1),
            EndTime=run.started_on + timedelta(seconds=run.execution_time + 120))
        return max(result["MetricDataResults"][0]["Values"])

    allocated = peak("glue.driver.ExecutorAllocationManager.executors.numberAllExecutors")
    needed = peak("glue.driver.ExecutorAllocationManager.executors.numberMaxNeededExecutors")
    assert needed <= 0.3 * allocated


def test_throttling_is_retried_by_botocore():
    fleet = build_fleet(3, 1, datetime.now(UTC), account_id=PRIVATE_ACCOUNT)
    with start_simulator(fleet, rate_limit_per_s=2) as sim:
        impatient = _client("glue", sim.env(), retries={"mode": "standard", "max_attempts": 1})
        with pytest.raises(ClientError) as info:
            for _ in range(20):
                impatient.get_jobs()
        assert info.value.response["Error"]["Code"] == "ThrottlingException"
        patient = _client("glue", sim.env(), retries={"mode": "standard", "max_attempts": 10})
        expected = sum(1 for job in fleet.jobs if job.region == "us-east-1")
        for _ in range(6):
            assert len(patient.get_jobs()["Jobs"]) == expected


def test_each_account_and_region_has_its_own_rate_limit():
    fleet = build_fleet(3, 1, datetime.now(UTC), account_id=PRIVATE_ACCOUNT)
    # One token per Region, refilled every 2 s: a second call right after the first is throttled.
    with start_simulator(fleet, rate_limit_per_s=0.5) as sim:
        impatient = {region: boto3.client("glue", endpoint_url=sim.endpoint_url, region_name=region,
                                          aws_access_key_id=sim.access_key_id,
                                          aws_secret_access_key=sim.secret_access_key,
                                          config=Config(retries={"mode": "standard", "max_attempts": 1}))
                     for region in ("us-east-1", "eu-west-1")}
        impatient["us-east-1"].get_jobs()
        with pytest.raises(ClientError, match="ThrottlingException"):
            impatient["us-east-1"].get_jobs()
        impatient["eu-west-1"].get_jobs()  # its own bucket is still full
        assert sim.region_call_counts["eu-west-1"] == 1 and sim.region_call_counts["us-east-1"] >= 2
        # Another account in the same Region (credentials of a role in it) has a bucket of its own too.
        creds = _client("sts", sim.env()).assume_role(
            RoleArn="arn:aws:iam::220987654321:role/glue-inventory-readonly", RoleSessionName="test")["Credentials"]
        other = boto3.client("glue", endpoint_url=sim.endpoint_url, region_name="us-east-1",
                             aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                             aws_session_token=creds["SessionToken"],
                             config=Config(retries={"mode": "standard", "max_attempts": 1}))
        assert other.get_jobs()["Jobs"] == []  # its own (empty) Glue, its own full bucket
        assert sim.platform_call_counts["220987654321/us-east-1"] == 1


def test_call_spans_are_kept_per_account_and_region():
    fleet = build_fleet(3, 1, datetime.now(UTC), account_id=PRIVATE_ACCOUNT)
    with start_simulator(fleet) as sim:
        glue = _client("glue", sim.env())  # us-east-1
        before = time.monotonic()
        glue.get_jobs()
        time.sleep(0.2)
        glue.get_jobs()
        after = time.monotonic()
        eu = boto3.client("glue", endpoint_url=sim.endpoint_url, region_name="eu-west-1",
                          aws_access_key_id=sim.access_key_id, aws_secret_access_key=sim.secret_access_key)
        eu.get_jobs()
        spans = sim.platform_call_spans
        first, last = spans[f"{PRIVATE_ACCOUNT}/us-east-1"]
        assert before <= first and last <= after and last - first >= 0.2
        first, last = spans[f"{PRIVATE_ACCOUNT}/eu-west-1"]
        assert first == last > after
        sim.reset_call_counts()
        assert sim.platform_call_spans == {}


def test_port_in_use_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SimulatorError, match=f"127.0.0.1:{port}"):
            start_simulator(build_fleet(1, 1, datetime.now(UTC), account_id=PRIVATE_ACCOUNT), port=port)


def test_one_simulator_per_account(simulator):
    with pytest.raises(SimulatorError, match="already running"):
        start_simulator(build_fleet(1, 1, datetime.now(UTC)))


def test_mutations_update_glue_and_truth():
    fleet = build_fleet(40, 5, datetime.now(UTC), account_id=PRIVATE_ACCOUNT)
    with start_simulator(fleet) as sim:
        glue = _client("glue", sim.env())
        sim.delete_job("ingest...raw")
        assert sim.truth()[f"{PRIVATE_ACCOUNT}/us-east-1/ingest...raw"].status == "deleted"
        with pytest.raises(ClientError):
            glue.get_job(JobName="ingest...raw")
        never = next(job for job in fleet.jobs if job.profile.status == "never_run")
        sim.add_runs(never.name, 3, region=never.region)
        assert sim.truth()[never.key].status == "active"
        dropped = sim.expire_runs(datetime.now(UTC) - timedelta(days=90))
        assert dropped > 0
        busiest = max(fleet.jobs, key=lambda job: len(job.runs) + len(job.expired_runs))
        before = datetime.now(UTC) - timedelta(days=90)
        assert all(run["StartedOn"] >= before for run in _all_runs(glue, busiest.name))


def test_survives_a_moto_reset_elsewhere_in_the_process(simulator, sim_env):
    BackendDict.reset()  # what mock_aws() does when another test starts it
    assert len(_client("glue", sim_env).get_jobs(MaxResults=1000)["Jobs"]) > 0


def _glue_call(connection: http.client.HTTPConnection, sim, operation: str) -> tuple[http.client.HTTPResponse, bytes]:
    """One Glue call on `connection`, as botocore sends it (a JSON body; moto does not check the signature)."""
    credential = f"{sim.access_key_id}/20260101/us-east-1/glue/aws4_request"
    connection.request("POST", "/", body=json.dumps({"MaxResults": 5}), headers={
        "X-Amz-Target": f"AWSGlue.{operation}", "Content-Type": "application/x-amz-json-1.1",
        "Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=0"})
    response = connection.getresponse()
    return response, response.read()


def test_connections_stay_open_between_calls_as_aws_keeps_them():
    # werkzeug's server closed every connection; a throttled answer leaves the body unread by moto.
    fleet = build_fleet(3, 1, datetime.now(UTC), account_id=PRIVATE_ACCOUNT)
    with start_simulator(fleet, rate_limit_per_s=1, burst=1) as sim:
        connection = http.client.HTTPConnection(sim.endpoint_url.removeprefix("http://"), timeout=10)
        answers = []
        for pause in (0, 0, 1.1):
            time.sleep(pause)
            response, body = _glue_call(connection, sim, "GetJobs")
            answers.append((response.status, response.getheader("Connection"), json.loads(body)))
            if not answers[1:]:
                first_socket = connection.sock
            assert connection.sock is not None and connection.sock is first_socket  # not closed, not reopened
        assert [(status, header) for status, header, _ in answers] == [(200, None), (400, None), (200, None)]
        assert answers[1][2]["__type"].endswith("ThrottlingException")
        assert len(answers[2][2]["Jobs"]) == len(answers[0][2]["Jobs"]) > 0
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 5  # stop() shut the open connection instead of waiting for it
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        _glue_call(connection, sim, "GetJobs")


@pytest.mark.skipif(sys.platform != "linux", reason="the kernel's receive stamps are read on Linux only")
def test_a_request_is_charged_when_it_reached_the_machine_not_when_the_server_read_it():
    # A simulator busy serializing a page reads a request late; the rate limit must count its arrival.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        assert _ArrivalStamps.enable(listener)
        with socket.create_connection(listener.getsockname()) as client:
            accepted, _ = listener.accept()
            with accepted:
                sent = time.time()
                client.sendall(b"GET / HTTP/1.1\r\n\r\n")
                time.sleep(0.3)
                stamps = _ArrivalStamps.of(accepted)
                assert stamps is not None and io.BufferedReader(stamps).readline() == b"GET / HTTP/1.1\r\n"
                read = time.time()
    assert stamps.first is not None and sent - 0.01 <= stamps.first <= sent + 0.1 < read - 0.2
