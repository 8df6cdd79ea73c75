"""The reference answers for a fleet, computed straight from the rules of docs/rules.md.

Written independently of `glue_inventory.analysis` on purpose: the pipeline is checked against this.
It sees every run ever planted, including runs Glue has since expired, because the pipeline keeps its
own history beyond Glue's retention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from glue_inventory.analysis.status import FAILED_STATES, FINISHED_STATES
from glue_inventory.analysis.types import SPARK_JOB_TYPES
from glue_inventory.simulate.catalog import (
    EOL_VERSIONS,
    LEGACY_SPARK_MIN_S,
    LEGACY_VERSIONS,
    MIN_BILLED_S,
    NEW_JOB_DAYS,
    PRICE_PER_DPU_HOUR,
    REQUIRED_TAGS,
    WINDOW_DAYS,
    WORKER_DPU,
)

if TYPE_CHECKING:
    from glue_inventory.simulate.fleet import Fleet, SimJob
    from glue_inventory.simulate.runs import SimJobRun


@dataclass(frozen=True)
class JobTruth:
    key: str
    status: str
    last_run_at: datetime | None
    run_count: int
    cost_30d_usd: float
    failure_rate_30d: float
    finished_runs_30d: int
    reasons: frozenset[str]
    code_findings: frozenset[str]
    secrets: frozenset[str]
    over_provisioned: bool
    script_present: bool


def run_dpu_hours(run: SimJobRun, job_type: str) -> float:
    """DPU-hours Glue bills for the run: DPUSeconds when reported, else capacity × time with the minimum."""
    if run.state == "RUNNING":
        return 0.0
    cfg = run.config
    if run.dpu_seconds is not None:
        return run.dpu_seconds / 3600
    if cfg.worker_type and cfg.number_of_workers:
        dpus = cfg.number_of_workers * WORKER_DPU[cfg.worker_type]
    else:
        dpus = cfg.max_capacity or 0.0
    legacy_spark = job_type in SPARK_JOB_TYPES and cfg.glue_version in LEGACY_VERSIONS
    minimum = LEGACY_SPARK_MIN_S if legacy_spark else MIN_BILLED_S
    return max(run.execution_time, minimum) * dpus / 3600


def run_cost_usd(run: SimJobRun, job_type: str) -> float:
    return run_dpu_hours(run, job_type) * PRICE_PER_DPU_HOUR[run.config.execution_class]


def _status(job: SimJob, last_started: float | None, now: datetime) -> str:
    if last_started is None:
        young = (now - job.created_on).total_seconds() <= NEW_JOB_DAYS * 86400
        return "new" if young else "never_run"
    days = int((now.timestamp() - last_started) // 86400)
    if days <= 30:
        return "active"
    if days <= 90:
        return "idle"
    return "stale" if days <= 180 else "abandoned"


def _job_truth(job: SimJob, now: datetime) -> tuple[JobTruth, float]:
    history = job.runs + job.expired_runs
    last = max((run.started for run in history), default=None)
    window_start = now.timestamp() - WINDOW_DAYS * 86400
    recent = [run for run in history if run.started >= window_start]
    cost = sum(run_cost_usd(run, job.command["Name"]) for run in recent)
    finished = [run for run in recent if run.state in FINISHED_STATES]
    failed = sum(1 for run in finished if run.state in FAILED_STATES)
    rate = failed / len(finished) if finished else 0.0
    status = _status(job, last, now)
    version = job.config.glue_version
    reasons = set()
    if rate >= 0.5 and len(finished) >= 3:
        reasons.add("failing")
    if status in ("stale", "abandoned", "never_run"):
        reasons.add("inactive")
    if version in EOL_VERSIONS:
        reasons.add("eol_version")
    if any(not job.tags.get(tag) for tag in REQUIRED_TAGS):
        reasons.add("missing_tags")
    if any(arg in job.default_arguments for arg in ("--db_password", "--api_token", "--aws_secret_access_key")):
        reasons.add("secrets_in_arguments")
    if (job.command["Name"] == "glueetl" and version in ("3.0", "4.0", "5.0")
            and job.config.execution_class == "STANDARD" and job.tags.get("env") != "prod"):
        reasons.add("flex_eligible")
    profile = job.profile
    recent_metrics = "--enable-metrics" in job.default_arguments and any(
        run.state != "RUNNING" for run in recent)
    truth = JobTruth(
        key=job.key, status=status, last_run_at=None if last is None else datetime.fromtimestamp(last, now.tzinfo),
        run_count=len(history), cost_30d_usd=round(cost, 6), failure_rate_30d=rate,
        finished_runs_30d=len(finished), reasons=frozenset(reasons),
        code_findings=frozenset() if profile.script_missing else profile.rules,
        secrets=job.secrets, over_provisioned=profile.over_provisioned and recent_metrics,
        script_present=not profile.script_missing,
    )
    return truth, cost


def compute_truth(fleet: Fleet, now: datetime) -> dict[str, JobTruth]:
    """Expected status, cost, failure rate, candidate reasons and findings per `account/region/name`."""
    results = {job.key: _job_truth(job, now) for job in fleet.jobs}
    # docs/rules.md: the ceil(10 %) costliest live jobs are high_cost too; a job costing 0 never is.
    top_n = math.ceil(0.1 * len(results))
    costly = sorted((key for key, (_, cost) in results.items() if cost > 0), key=lambda k: -results[k][1])
    top = set(costly[:top_n])
    truths: dict[str, JobTruth] = {}
    for key, (truth, cost) in results.items():
        if cost >= 100 or key in top:
            truth = _with_reason(truth, "high_cost")
        truths[key] = truth
    for key, job in fleet.deleted.items():
        truth, _ = _job_truth(job, now)
        truths[key] = JobTruth(**{**truth.__dict__, "status": "deleted", "reasons": frozenset()})
    return truths


def _with_reason(truth: JobTruth, reason: str) -> JobTruth:
    return JobTruth(**{**truth.__dict__, "reasons": truth.reasons | {reason}})
