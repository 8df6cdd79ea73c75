"""The simulator's own GetJobRuns and GetJobs answer exactly what moto's serializer answers for the same jobs."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from glue_inventory.simulate import build_fleet, start_simulator

ACCOUNT = "230987654321"


def _glue(endpoint: str, env: dict[str, str]):
    return boto3.client("glue", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])


def _pages(glue, name: str, size: int | None) -> list[tuple[list[dict], bool]]:
    """Every page of the job's runs: (runs, whether a NextToken followed)."""
    pages, token = [], None
    while True:
        params = {"JobName": name} | ({"MaxResults": size} if size else {}) | ({"NextToken": token} if token else {})
        page = glue.get_job_runs(**params)
        token = page.get("NextToken")
        pages.append((page["JobRuns"], bool(token)))
        if not token:
            return pages


@pytest.fixture(scope="module")
def both():
    """The simulator (its own GetJobRuns) and a plain moto server over the same in-process backends."""
    fleet = build_fleet(12, 23, datetime.now(UTC), account_id=ACCOUNT)
    with start_simulator(fleet) as sim:
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        host, port = moto.get_host_and_port()
        try:
            env = sim.env()
            yield fleet, _glue(env["AWS_ENDPOINT_URL"], env), _glue(f"http://{host}:{port}", env)
        finally:
            moto.stop()


@pytest.mark.parametrize("size", [None, 1, 7, 200])
def test_job_runs_fast_path_answers_like_moto(both, size):
    fleet, simulator, moto = both
    jobs = [job for job in fleet.jobs if job.region == "us-east-1"]
    busiest = max(jobs, key=lambda job: len(job.runs))
    for job in sorted(jobs, key=lambda job: len(job.runs))[:3] + [busiest]:
        ours, motos = _pages(simulator, job.name, size), _pages(moto, job.name, size)
        assert [len(runs) for runs, _ in ours] == [len(runs) for runs, _ in motos]
        assert [more for _, more in ours] == [more for _, more in motos]
        assert [runs for runs, _ in ours] == [runs for runs, _ in motos], job.name
    assert sum(len(runs) for runs, _ in _pages(simulator, busiest.name, size)) == len(busiest.runs)


def test_job_runs_of_an_unknown_job_is_entity_not_found(both):
    _, simulator, moto = both
    for glue in (simulator, moto):
        with pytest.raises(ClientError) as caught:
            glue.get_job_runs(JobName="no-such-job")
        assert caught.value.response["Error"]["Code"] == "EntityNotFoundException"


def _job_pages(glue, size: int | None) -> list[list[dict]]:
    """Every GetJobs page of the Region (the fleet's other Region has its own jobs)."""
    pages, token = [], None
    while True:
        page = glue.get_jobs(**({"MaxResults": size} if size else {}) | ({"NextToken": token} if token else {}))
        pages.append(page["Jobs"])
        token = page.get("NextToken")
        if not token:
            return pages


@pytest.mark.parametrize("size", [None, 1, 5, 1000])
def test_jobs_fast_path_answers_like_moto(both, size):
    fleet, simulator, moto = both
    ours, motos = _job_pages(simulator, size), _job_pages(moto, size)
    assert ours == motos
    assert sorted(job["Name"] for page in ours for job in page) == sorted(
        job.name for job in fleet.jobs if job.region == "us-east-1")
    assert all(isinstance(job["CreatedOn"], datetime) for page in ours for job in page)


def test_jobs_with_a_token_moto_refuses_is_moto_s_error(both):
    _, simulator, moto = both
    codes = []
    for glue in (simulator, moto):
        with pytest.raises(ClientError) as caught:
            glue.get_jobs(NextToken="not-a-token-moto-gave")
        codes.append(caught.value.response["Error"]["Code"])
    assert codes[0] == codes[1]
