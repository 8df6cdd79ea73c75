"""Glue writes moto lacks or answers loosely, with AWS's semantics, keeping the fleet (and its truth) in step.

- UpdateJob (moto has none): the job definition is *replaced* by the JobUpdate, as the Glue API reference
  says; Glue's own checks are kept (MaxCapacity beside WorkerType, FLEX outside glueetl on Glue 3.0+), so a
  client that sends a partial or contradictory update fails here as it would on AWS.
- DeleteJob: the job and its tags go (moto keeps the tags); triggers stay, as on AWS.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from moto.glue.models import glue_backends

from glue_inventory.analysis.status import version_tuple
from glue_inventory.simulate.catalog import DEFAULT_REGION, WORKER_DPU
from glue_inventory.simulate.fleet import Fleet, SimJob
from glue_inventory.simulate.middleware import ACCOUNT_KEY, request_region
from glue_inventory.simulate.seed import remove_job_from_backend

UPDATE_JOB, DELETE_JOB = "AWSGlue.UpdateJob", "AWSGlue.DeleteJob"
# Glue 3.0 is the first version that runs the FLEX execution class (AWS Glue developer guide, "Flex").
FLEX_MIN_VERSION = (3, 0)


class InvalidInput(ValueError):
    """What Glue answers with InvalidInputException."""


def _check(update: Mapping[str, Any]) -> None:
    if not update.get("Role") or not update.get("Command"):
        raise InvalidInput("JobUpdate replaces the whole definition: Role and Command are required")
    if update.get("WorkerType") and update.get("MaxCapacity") is not None:
        raise InvalidInput("Please set either MaxCapacity or WorkerType/NumberOfWorkers, but not both")
    if bool(update.get("WorkerType")) != bool(update.get("NumberOfWorkers")):
        raise InvalidInput("WorkerType and NumberOfWorkers must be set together")
    if (update.get("ExecutionClass") or "").upper() == "FLEX":
        version = version_tuple(update.get("GlueVersion"))
        if update["Command"].get("Name") != "glueetl" or version is None or version < FLEX_MIN_VERSION:
            raise InvalidInput("the FLEX execution class is only for glueetl jobs on Glue 3.0 or later")


def _job(fleet: Fleet, account_id: str, name: str, region: str) -> SimJob:
    for job in fleet.jobs:
        if (job.account_id, job.region, job.name) == (account_id, region, name):
            return job
    raise KeyError(f"no job {name!r} in {account_id}/{region}")


def update_job(fleet: Fleet, account_id: str, name: str, region: str, update: Mapping[str, Any]) -> None:
    """Replace the job's definition by `update`; later runs use its capacity, version and execution class."""
    _check(update)
    job = _job(fleet, account_id, name, region)
    fake = glue_backends[account_id][region].jobs[name]
    fake.role, fake.command = update["Role"], dict(update["Command"])
    fake.description, fake.log_uri = update.get("Description", ""), update.get("LogUri", "")
    fake.execution_property = update.get("ExecutionProperty") or {}
    fake.default_arguments = dict(update.get("DefaultArguments") or {})
    fake.non_overridable_arguments = update.get("NonOverridableArguments") or {}
    fake.connections = update.get("Connections") or {}
    fake.max_retries, fake.timeout = update.get("MaxRetries", 0), update.get("Timeout")
    fake.worker_type, fake.number_of_workers = update.get("WorkerType"), update.get("NumberOfWorkers")
    fake.glue_version = update.get("GlueVersion")
    # Glue reports MaxCapacity for a worker-type job too: workers × DPU per worker.
    fake.max_capacity = (fake.number_of_workers * WORKER_DPU[fake.worker_type] if fake.worker_type in WORKER_DPU
                         else update.get("MaxCapacity"))
    fake.execution_class = update.get("ExecutionClass") or "STANDARD"
    fake.last_modified_on = datetime.now(UTC)
    job.command, job.default_arguments = fake.command, fake.default_arguments
    job.config = replace(job.config, worker_type=fake.worker_type, number_of_workers=fake.number_of_workers,
                         max_capacity=fake.max_capacity, glue_version=fake.glue_version,
                         execution_class=fake.execution_class)


def delete_job(fleet: Fleet, account_id: str, name: str, region: str) -> None:
    """DeleteJob: the job and its tags go, its triggers stay (they reference a job that no longer exists)."""
    try:
        job = _job(fleet, account_id, name, region)
    except KeyError:
        return  # Glue answers DeleteJob of an unknown job with success
    fleet.jobs.remove(job)
    fleet.deleted[job.key] = job
    remove_job_from_backend(job, triggers=False)


class GlueWrites:
    """The WSGI handlers of UpdateJob and DeleteJob for `SimulatorApp`, serialised by the simulator's lock."""

    def __init__(self, fleet: Fleet, lock: threading.Lock) -> None:
        self.fleet, self.lock = fleet, lock

    def handlers(self) -> dict[str, Callable[[dict, Callable], Iterable[bytes]]]:
        return {UPDATE_JOB: self._update, DELETE_JOB: self._delete}

    def _request(self, environ: dict) -> tuple[dict, str, str]:
        """The request body, the account it acts in (the middleware's answer) and its Region."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        account = environ.get(ACCOUNT_KEY) or self.fleet.account_id
        return (json.loads(environ["wsgi.input"].read(length) or b"{}"), account,
                request_region(environ) or DEFAULT_REGION)

    def _update(self, environ: dict, start_response: Callable) -> list[bytes]:
        request, account, region = self._request(environ)
        name = request.get("JobName")
        try:
            with self.lock:
                update_job(self.fleet, account, name, region, request.get("JobUpdate") or {})
        except InvalidInput as exc:
            return _answer(start_response, "400 Bad Request", {"__type": "InvalidInputException", "message": str(exc)})
        except KeyError:
            return _answer(start_response, "400 Bad Request",
                           {"__type": "EntityNotFoundException", "message": f"Job {name} not found"})
        return _answer(start_response, "200 OK", {"JobName": name})

    def _delete(self, environ: dict, start_response: Callable) -> list[bytes]:
        request, account, region = self._request(environ)
        with self.lock:
            delete_job(self.fleet, account, request.get("JobName"), region)
        return _answer(start_response, "200 OK", {"JobName": request.get("JobName")})


def _answer(start_response: Callable, status: str, body: dict) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data)))])
    return [data]
