"""The WSGI app behind the simulator's CallGate: moto, minus two costs AWS never puts on a client.

- moto's dispatcher lists its ~170 package directories (a `stat` each) under one global lock on every
  request to find the backend of a host. Under load each `stat` waits for the GIL, so concurrent
  requests queue on that lock. The answer never changes while the process runs: it is remembered.
- moto answers GetJobRuns through a generic serializer that walks the botocore shape field by field,
  0.3-1 ms of CPU per run: a year of history for 1,000 jobs (~116k runs) costs the simulator ~100 s of
  CPU. GetJobRuns is answered here instead, from the same moto job objects, in the same order, as
  plain JSON (the test `test_job_runs_fast_path_answers_like_moto` compares the two field by field).
  GetJobs too: the same walk over a page of 1,000 job definitions took 0.35 s, 0.02 s here, and the
  listing's pages come one after another (each needs the last one's token), so a bench's listing
  measured moto's serializer, not the inventory. Its pages and tokens are moto's own (moto's paginated
  backend call); a token moto refuses is left to moto to answer.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from moto.core.exceptions import InvalidToken
from moto.glue.models import glue_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from glue_inventory.simulate.catalog import DEFAULT_REGION
from glue_inventory.simulate.middleware import ACCOUNT_KEY, request_region

GET_JOB_RUNS = "AWSGlue.GetJobRuns"
GET_JOBS = "AWSGlue.GetJobs"
DEFAULT_PAGE = 100  # AWS Glue GetJobRuns without MaxResults


class CachedDispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend serves each host."""

    def __init__(self) -> None:
        super().__init__(create_backend_app)
        self._backend_of_host: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        # Called under moto's dispatcher lock.
        if host not in self._backend_of_host:
            self._backend_of_host[host] = super().get_backend_for_host(host)
        return self._backend_of_host[host]


class SimulatorApp:
    """GetJobRuns answered from moto's job objects (of the request's account, or `account_id`), and the JSON
    operations in `intercepts` (target → WSGI handler) by their handlers; every other call goes to moto."""

    def __init__(self, account_id: str, moto_app: Callable | None = None) -> None:
        self.account_id = account_id
        self.moto_app = moto_app or CachedDispatcher()
        self.intercepts: dict[str, Callable[[dict, Callable], Iterable[bytes]]] = {
            GET_JOB_RUNS: self._job_runs_page, GET_JOBS: self._jobs_page}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        handler = self.intercepts.get(environ.get("HTTP_X_AMZ_TARGET") or "")
        if handler is not None:
            return handler(environ, start_response)
        return self.moto_app(environ, start_response)

    def _request(self, environ: dict) -> tuple[bytes, dict, Any]:
        """The request's body, its JSON, and moto's Glue backend of its account (or `account_id`) and Region."""
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        backend = glue_backends[environ.get(ACCOUNT_KEY) or self.account_id][request_region(environ) or DEFAULT_REGION]
        return raw, json.loads(raw or b"{}"), backend

    def _job_runs_page(self, environ: dict, start_response: Callable) -> list[bytes]:
        _, request, backend = self._request(environ)
        job = backend.jobs.get(request.get("JobName"))
        if job is None:
            body = {"__type": "EntityNotFoundException", "message": f"Job {request.get('JobName')} not found"}
            return json_response(start_response, "400 Bad Request", body)
        runs = job.get_job_runs()
        first, size = int(request.get("NextToken") or 0), int(request.get("MaxResults") or DEFAULT_PAGE)
        body: dict[str, Any] = {"JobRuns": [run.as_dict() for run in runs[first:first + size]]}
        if first + size < len(runs):
            body["NextToken"] = str(first + size)
        return json_response(start_response, "200 OK", body)

    def _jobs_page(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        raw, request, backend = self._request(environ)
        try:
            jobs, token = backend.get_jobs(next_token=request.get("NextToken"), max_results=request.get("MaxResults"))
        except InvalidToken:  # moto's own answer to a token it refuses
            environ["wsgi.input"] = io.BytesIO(raw)
            return self.moto_app(environ, start_response)
        # moto's serializer leaves out the members that are None, as AWS does.
        body: dict[str, Any] = {"Jobs": [{k: v for k, v in job.as_dict().items() if v is not None} for job in jobs]}
        if token:
            body["NextToken"] = token
        return json_response(start_response, "200 OK", body)


def _epoch_ms(value: datetime) -> float:
    """Epoch seconds cut to milliseconds, as moto (and AWS) send timestamps."""
    return round(value.replace(microsecond=value.microsecond // 1000 * 1000).timestamp(), 3)


def json_response(start_response: Callable, status: str, body: dict) -> list[bytes]:
    data = json.dumps(body, default=_epoch_ms).encode()
    start_response(status, [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data)))])
    return [data]
