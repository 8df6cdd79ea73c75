"""The plain records the analysis works on, parsed from Glue API responses or read from our tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

# Glue job types (Command.Name) that run Spark: right-sizing and Spark metrics apply to them.
SPARK_JOB_TYPES = frozenset({"glueetl", "gluestreaming"})


@dataclass(frozen=True)
class JobSpec:
    """A Glue job definition (GetJobs / GetJob `Job`)."""

    name: str
    job_type: str | None = None  # Command.Name: glueetl, pythonshell, gluestreaming, glueray
    worker_type: str | None = None
    number_of_workers: int | None = None
    max_capacity: float | None = None
    glue_version: str | None = None
    execution_class: str | None = None
    script_location: str | None = None
    python_version: str | None = None
    created_on: datetime | None = None
    last_modified_on: datetime | None = None
    default_arguments: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    role: str | None = None
    timeout_minutes: int | None = None


class JobRun(NamedTuple):
    """One run of a job (GetJobRuns `JobRuns[]`); capacity fields are the run's own when Glue reports them.

    A named tuple, not a frozen dataclass: an inventory builds one per run fetched and per stored run its
    metrics read (hundreds of thousands), and a frozen dataclass's __init__ took 2.1 µs to the tuple's 0.8.
    """

    run_id: str
    state: str
    started_on: datetime | None = None
    completed_on: datetime | None = None
    execution_time_s: int | None = None
    dpu_seconds: float | None = None
    worker_type: str | None = None
    number_of_workers: int | None = None
    max_capacity: float | None = None
    glue_version: str | None = None
    execution_class: str | None = None
    error_message: str | None = None
    attempt: int = 0
