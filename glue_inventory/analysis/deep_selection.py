"""Which jobs get a deep analysis, and whether a chosen job needs one again.

A job is chosen when it is among the top K candidates by score, or tagged
`glue-inventory:deep-analysis=true` in Glue, and never when tagged `=false`. After each candidate
list only the chosen jobs that are new or whose inputs changed since their last deep analysis are
analysed: a deep analysis costs CloudWatch calls, pylint and bandit time and LLM tokens per job.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from glue_inventory.analysis.tags import tag_value

OPT_TAG = "glue-inventory:deep-analysis"
# The columns of a job's definition a deep analysis depends on (tags only choose whether it runs).
CONFIG_COLUMNS = ("job_type", "worker_type", "number_of_workers", "max_capacity", "glue_version", "execution_class",
                  "script_location", "default_argument_names", "job_bookmark_option")


@dataclass(frozen=True)
class DeepInputs:
    """What a job's deep analysis depends on, and what its latest deep analysis saw."""

    key: str
    data_job_id: int
    score: float | None  # None: not a current candidate
    opt_in: bool | None  # the glue-inventory:deep-analysis tag; None when absent or neither true nor false
    config: str = ""  # fingerprint of CONFIG_COLUMNS
    runs_stored_at: datetime | None = None  # when a new or changed run of the job was last stored
    script_sha: str | None = None  # sha256 of the script as job_script last read it
    analysed_at: datetime | None = None
    analysed_sha: str | None = None  # the script sha the latest deep analysis read


def opt_in(tags: dict | None) -> bool | None:
    return {"true": True, "false": False}.get(tag_value(tags or {}, OPT_TAG).lower())


def config_fingerprint(values: Iterable) -> str:
    return hashlib.sha256(json.dumps(list(values), default=str).encode()).hexdigest()[:16]


def chosen(jobs: Iterable[DeepInputs], top_k: int) -> list[DeepInputs]:
    """The top `top_k` candidates by score (ties by key) not opted out, then every opted-in job."""
    eligible = [job for job in jobs if job.opt_in is not False]
    ranked = sorted((job for job in eligible if job.score is not None), key=lambda job: (-job.score, job.key))
    top = ranked[:max(0, top_k)]
    picked = {job.key for job in top}
    return top + sorted((job for job in eligible if job.opt_in and job.key not in picked), key=lambda job: job.key)


def change_reason(job: DeepInputs, previous: Mapping[str, str] | None) -> str | None:
    """Why the job needs a deep analysis now, or None. `previous` maps the jobs chosen at the last
    evaluation to their configuration then (None before the first evaluation).

    The inventory does not keep Glue's LastModifiedOn (`data_jobs.last_modified_on` stays empty), so a
    configuration change is seen by comparing fingerprints between evaluations.
    """
    if job.analysed_at is None:
        return "never analysed"
    if previous is not None and job.key not in previous:
        return "new candidate"
    if job.script_sha and job.script_sha != job.analysed_sha:
        return "script changed"
    if job.runs_stored_at and job.runs_stored_at > job.analysed_at:
        return "new runs"
    if previous is not None and previous[job.key] != job.config:
        return "configuration changed"
    return None
