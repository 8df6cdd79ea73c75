"""The preliminary metrics of one job: status, run counts, failure rate, cost, versions, tags, secrets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from math import fsum
from typing import TypedDict

from glue_inventory.analysis.code.secrets import secret_argument_names
from glue_inventory.analysis.cost.dpu_estimate import job_capacity_dpu, job_execution_class, run_dpu_hours_and_cost
from glue_inventory.analysis.status import (
    FAILED_STATES,
    effective_glue_version,
    failure_rate,
    in_window,
    is_eol,
    job_status,
    version_tuple,
    window_start,
)
from glue_inventory.analysis.tags import missing_tags, tag_value
from glue_inventory.analysis.types import JobRun, JobSpec
from glue_inventory.config import Settings

# AWS Glue developer guide "Using job execution class": Flex is for glueetl on Glue 3.0 and later.
FLEX_JOB_TYPE = "glueetl"
FLEX_MIN_GLUE_VERSION = (3, 0)
PRODUCTION_ENV_VALUES = frozenset({"prod", "production"})


def flex_eligible(job: JobSpec) -> bool:
    """A STANDARD glueetl job on Glue ≥ 3.0 whose `env` tag does not say production."""
    version = version_tuple(job.glue_version)
    return (
        job.job_type == FLEX_JOB_TYPE
        and version is not None
        and version >= FLEX_MIN_GLUE_VERSION
        and job_execution_class(job) == "STANDARD"
        and tag_value(job.tags, "env").casefold() not in PRODUCTION_ENV_VALUES
    )


class JobMetrics(TypedDict, total=False):
    """A job's preliminary metrics (`data_jobs.metrics`, JSON). Readers (`storage.jobs.read_jobs`) also see the
    bill's fields of `job_costs` (`billed_30d_usd`, `cost_basis`, …) and the preliminary step adds
    `secret_arguments`' names; money is unrounded."""

    status: str
    region: str
    job_type: str | None
    execution_class: str
    last_run_at: str | None
    last_run_state: str | None
    runs_total: int
    runs_30d: int
    finished_runs_30d: int
    failed_runs_30d: int
    failure_rate_30d: float
    dpu_hours_30d: float
    cost_30d_usd: float
    failed_cost_30d_usd: float
    monthly_projection_usd: float
    capacity_dpu: float | None
    glue_version_effective: str
    eol_version: bool
    missing_tags: list[str]
    secret_arguments: list[str]
    flex_eligible: bool


def preliminary_metrics(
    job: JobSpec,
    runs: Iterable[JobRun],
    *,
    region: str,
    settings: Settings,
    now: datetime,
    created_on: datetime | None = None,
    runs_total: int | None = None,
) -> JobMetrics:
    """A flat JSON-able dict of the job's preliminary metrics; runs are read once, in any order.

    `runs` needs only the runs started in the window plus the latest run: a caller that passes just
    those (the stored history is long) gives the count of all runs as `runs_total`.

    Money stays unrounded here: rounding to cents belongs to presentation.
    """
    thresholds = settings.thresholds
    start = window_start(now, thresholds.window_days)
    # Retries can share a StartedOn; attempt and id break the tie so "latest" does not depend on order.
    latest: tuple[datetime, int, str, str] | None = None
    runs_seen = 0
    window_runs: list[JobRun] = []
    # Summed with math.fsum: the totals do not depend on the order the runs arrive in, to the last bit.
    dpu_hours: list[float] = []
    costs: list[float] = []
    failed_costs: list[float] = []
    for run in runs:
        runs_seen += 1
        if run.started_on is None:
            continue
        order = (run.started_on, run.attempt, run.run_id, run.state)
        if latest is None or order > latest:
            latest = order
        if not in_window(run, start):
            continue
        window_runs.append(run)
        hours, run_cost = run_dpu_hours_and_cost(run, job, region, settings.pricing)
        dpu_hours.append(hours)
        costs.append(run_cost)
        if run.state in FAILED_STATES:
            failed_costs.append(run_cost)
    rate, failed, finished = failure_rate(window_runs, now, thresholds.window_days)
    cost = fsum(costs)
    glue_version = effective_glue_version(job.glue_version)
    return {
        "status": job_status(latest[0] if latest else None, created_on or job.created_on, now, thresholds),
        "region": region,
        "job_type": job.job_type,
        "execution_class": job_execution_class(job),
        "last_run_at": latest[0].isoformat() if latest else None,
        "last_run_state": latest[3] if latest else None,
        "runs_total": runs_seen if runs_total is None else runs_total,
        "runs_30d": len(window_runs),
        "finished_runs_30d": finished,
        "failed_runs_30d": failed,
        "failure_rate_30d": rate,
        "dpu_hours_30d": fsum(dpu_hours),
        "cost_30d_usd": cost,
        "failed_cost_30d_usd": fsum(failed_costs),
        "monthly_projection_usd": cost,
        "capacity_dpu": job_capacity_dpu(job),
        "glue_version_effective": glue_version,
        "eol_version": is_eol(glue_version, settings.eol_versions),
        "missing_tags": missing_tags(job.tags, settings.required_tags),
        "secret_arguments": secret_argument_names(job.default_arguments),
        "flex_eligible": flex_eligible(job),
    }
