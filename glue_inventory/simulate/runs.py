"""Light job-run records served by moto's Glue backend in place of its `FakeJobRun`.

moto's own runs always report SUCCEEDED with ExecutionTime 123 and no DPUSeconds, so the simulator
appends these to `FakeJob.job_runs`. A fleet of 10,000 jobs holds about a million of them: `__slots__`,
epoch-second numbers and a run id derived on demand keep each one small.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Capacity and version a run executed with; shared by all runs of a job between config changes."""

    worker_type: str | None
    number_of_workers: int | None
    max_capacity: float | None
    glue_version: str | None
    execution_class: str
    timeout_minutes: int
    auto_scaling: bool = False


class SimJobRun:
    """One Glue job run; `as_dict()` has the fields and presence rules of GetJobRuns `JobRuns[]`."""

    __slots__ = ("job_name", "key", "started", "execution_time", "state", "attempt", "config",
                 "dpu_seconds", "error_message", "previous_key")

    def __init__(self, job_name: str, key: int, started: float, execution_time: int, state: str,
                 config: RunConfig, attempt: int = 0, dpu_seconds: float | None = None,
                 error_message: str | None = None, previous_key: int | None = None) -> None:
        self.job_name = job_name
        self.key = key
        self.started = started
        self.execution_time = execution_time
        self.state = state
        self.config = config
        self.attempt = attempt
        self.dpu_seconds = dpu_seconds
        self.error_message = error_message
        self.previous_key = previous_key

    @property
    def job_run_id(self) -> str:
        return run_id_for(self.key)

    @property
    def status(self) -> str:
        return self.state

    @property
    def started_on(self) -> datetime:
        return datetime.fromtimestamp(self.started, UTC)

    def advance(self) -> None:
        """moto advances its own runs' state machine on every read; these runs are already settled."""

    def get_name(self) -> str:
        return self.job_name

    def as_dict(self) -> dict[str, Any]:
        cfg = self.config
        running = self.state == "RUNNING"
        # Glue's LastModifiedOn trails StartedOn by start-up and run time; CompletedOn only once finished.
        end = self.started + self.execution_time + 20
        run: dict[str, Any] = {
            "Id": self.job_run_id,
            "Attempt": self.attempt,
            "JobName": self.job_name,
            "StartedOn": self.started_on,
            "LastModifiedOn": datetime.fromtimestamp(self.started + 15 if running else end, UTC),
            "JobRunState": self.state,
            "PredecessorRuns": [],
            "AllocatedCapacity": int(cfg.max_capacity or 0),
            "Timeout": cfg.timeout_minutes,
            "ExecutionClass": cfg.execution_class,
            "LogGroupName": "/aws-glue/jobs",
        }
        if self.previous_key is not None:
            run["PreviousRunId"] = run_id_for(self.previous_key)
        if not running:
            run["CompletedOn"] = datetime.fromtimestamp(end, UTC)
            run["ExecutionTime"] = self.execution_time
        if cfg.worker_type:
            run["WorkerType"] = cfg.worker_type
            run["NumberOfWorkers"] = cfg.number_of_workers
        if cfg.max_capacity is not None:
            run["MaxCapacity"] = cfg.max_capacity
        if cfg.glue_version:
            run["GlueVersion"] = cfg.glue_version
        if self.dpu_seconds is not None and not running:
            run["DPUSeconds"] = self.dpu_seconds
        if self.error_message:
            run["ErrorMessage"] = self.error_message
        return run


def run_id_for(key: int) -> str:
    """Glue run ids are `jr_` and 64 hex digits."""
    return "jr_" + hashlib.sha256(key.to_bytes(8, "big")).hexdigest()
