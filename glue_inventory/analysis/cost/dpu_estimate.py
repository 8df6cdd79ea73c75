"""DPU capacity, billed DPU-hours and cost of Glue runs (docs/rules.md, "Rules of the analysis")."""

from __future__ import annotations

from functools import lru_cache

from glue_inventory.analysis.status import UNFINISHED_STATES, version_in
from glue_inventory.analysis.types import JobRun, JobSpec
from glue_inventory.config import Pricing

# DPU per worker, AWS Glue developer guide "Defining job properties for Spark jobs" (Worker type).
DPU_PER_WORKER: dict[str, float] = {
    "Standard": 1.0,
    "G.025X": 0.25,
    "G.1X": 1.0,
    "G.2X": 2.0,
    "G.4X": 4.0,
    "G.8X": 8.0,
    "G.12X": 12.0,
    "G.16X": 16.0,
    "R.1X": 1.0,
    "R.2X": 2.0,
    "R.4X": 4.0,
    "R.8X": 8.0,
    "Z.2X": 2.0,
}

# Glue API CreateJob `MaxCapacity`: the default when a job sets neither workers nor capacity.
PYTHON_SHELL_DEFAULT_DPU = 0.0625
SPARK_DEFAULT_DPU = 10.0

# AWS Glue pricing page: Spark jobs on Glue 0.9/1.0 bill a 10-minute minimum, everything
# newer (and Python shell on any version) a 1-minute minimum.
LEGACY_SPARK_MINIMUM_S = 600
MINIMUM_S = 60
LEGACY_GLUE_VERSIONS = ("0.9", "1.0")

PYTHON_SHELL = "pythonshell"


def capacity_dpu(worker_type: str | None, number_of_workers: int | None, max_capacity: float | None) -> float:
    """DPUs of a job or run: workers × DPU per worker, else MaxCapacity, else 0 (unknown)."""
    per_worker = DPU_PER_WORKER.get(worker_type or "")
    if per_worker is not None and number_of_workers:
        return number_of_workers * per_worker
    # An unknown (newer) worker type still has MaxCapacity filled in by GetJobs/GetJobRuns.
    return float(max_capacity or 0.0)


def job_capacity_dpu(job: JobSpec) -> float:
    """The job's DPUs, with the API defaults when the definition carries no capacity at all."""
    dpu = capacity_dpu(job.worker_type, job.number_of_workers, job.max_capacity)
    if dpu:
        return dpu
    return PYTHON_SHELL_DEFAULT_DPU if job.job_type == PYTHON_SHELL else SPARK_DEFAULT_DPU


@lru_cache(maxsize=256)  # a few (type, version) pairs, asked for every run of a fleet
def billing_minimum_s(job_type: str | None, glue_version: str | None) -> int:
    """Seconds billed at least per run; no GlueVersion means Glue 0.9, the default of old jobs."""
    if job_type == PYTHON_SHELL:
        return MINIMUM_S
    if version_in(glue_version, LEGACY_GLUE_VERSIONS):
        return LEGACY_SPARK_MINIMUM_S
    return MINIMUM_S


def run_capacity_dpu(run: JobRun, job: JobSpec) -> float:
    """The run's own capacity when Glue reports it (it may differ from today's job), else the job's."""
    dpu = capacity_dpu(run.worker_type, run.number_of_workers, run.max_capacity)
    return dpu or job_capacity_dpu(job)


def run_dpu_hours(run: JobRun, job: JobSpec) -> float:
    """Billed DPU-hours of one run; 0 while it runs or when Glue reports no ExecutionTime."""
    if run.state in UNFINISHED_STATES:
        return 0.0
    if run.dpu_seconds is not None:
        return run.dpu_seconds / 3600
    if run.execution_time_s is None:
        return 0.0
    minimum = billing_minimum_s(job.job_type, run.glue_version or job.glue_version)
    return max(run.execution_time_s, minimum) * run_capacity_dpu(run, job) / 3600


def job_execution_class(job: JobSpec) -> str:
    """STANDARD or FLEX; Glue's default is STANDARD when the job does not say."""
    return (job.execution_class or "STANDARD").upper()


def run_execution_class(run: JobRun, job: JobSpec) -> str:
    """The run's own execution class when Glue reports it, else the job's."""
    return (run.execution_class or job_execution_class(job)).upper()


def run_dpu_hours_and_cost(run: JobRun, job: JobSpec, region: str, pricing: Pricing) -> tuple[float, float]:
    """Billed DPU-hours of one run and their USD (`run_cost_usd`), the hours worked out once."""
    hours = run_dpu_hours(run, job)
    return hours, hours * pricing.per_dpu_hour(region, run_execution_class(run, job))


def run_cost_usd(run: JobRun, job: JobSpec, region: str, pricing: Pricing) -> float:
    """USD of one run at the region's price for the run's execution class; not rounded."""
    return run_dpu_hours_and_cost(run, job, region, pricing)[1]
