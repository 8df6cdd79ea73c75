"""Which jobs get a deep analysis, and whether a chosen job needs one again.

Two lanes choose the jobs: the savings lane takes the top `top_k_savings` candidates by estimated monthly
saving (rule of thumb included: measuring it is what the deep analysis is for), the risk lane the top
`top_k_risk` of the others by risk points. A job tagged `glue-inventory:deep-analysis=true` in Glue is chosen
too (lane `opt_in`), and never one tagged `=false`. After each candidate list only the chosen jobs that are
new or whose inputs changed since their last deep analysis are analysed: a deep analysis costs CloudWatch
calls, pylint and bandit time and LLM tokens per job.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from glue_inventory.analysis.tags import tag_value

OPT_TAG = "glue-inventory:deep-analysis"
SAVINGS_LANE, RISK_LANE, OPT_IN_LANE = "savings", "risk", "opt_in"
LANE_ORDER = (SAVINGS_LANE, RISK_LANE, OPT_IN_LANE)
# The columns of a job's definition a deep analysis depends on (tags only choose whether it runs).
CONFIG_COLUMNS = ("job_type", "worker_type", "number_of_workers", "max_capacity", "glue_version", "execution_class",
                  "script_location", "default_argument_names", "job_bookmark_option")


@dataclass(frozen=True)
class DeepInputs:
    """What a job's deep analysis depends on, and what its latest deep analysis saw."""

    key: str
    data_job_id: int
    lane: str | None  # savings, risk (stored with the candidate list), opt_in; None: not chosen
    rank: int | None  # rank in its lane, from 1
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


@dataclass(frozen=True)
class LaneEntry:
    """A candidate as the lanes see it."""

    key: str
    savings: float  # estimated monthly saving, all bases
    risk: float  # risk points
    opt_in: bool | None = None


def lanes(candidates: Iterable[LaneEntry], top_k_savings: int, top_k_risk: int) -> dict[str, tuple[str, int]]:
    """key → (lane, rank) of the candidates the two lanes choose: the top `top_k_savings` by saving (ties by
    key), then the top `top_k_risk` of the rest by risk points (ties by saving, then key); never a job
    opted out, never one with nothing to save (savings lane) or no risk (risk lane)."""
    eligible = [entry for entry in candidates if entry.opt_in is not False]
    by_saving = sorted((e for e in eligible if e.savings > 0), key=lambda e: (-e.savings, e.key))
    chosen_lanes = {entry.key: (SAVINGS_LANE, rank) for rank, entry in enumerate(by_saving[:max(0, top_k_savings)], 1)}
    by_risk = sorted((e for e in eligible if e.risk > 0 and e.key not in chosen_lanes),
                     key=lambda e: (-e.risk, -e.savings, e.key))
    chosen_lanes |= {entry.key: (RISK_LANE, rank) for rank, entry in enumerate(by_risk[:max(0, top_k_risk)], 1)}
    return chosen_lanes


def chosen(jobs: Iterable[DeepInputs]) -> list[DeepInputs]:
    """The jobs the lanes chose (savings then risk, by rank) not opted out since, then every other opted-in job
    (lane opt_in, ranked by key)."""
    eligible = [job for job in jobs if job.opt_in is not False]
    laned = sorted((job for job in eligible if job.lane), key=lambda job: (LANE_ORDER.index(job.lane), job.rank))
    picked = {job.key for job in laned}
    extra = sorted((job for job in eligible if job.opt_in and job.key not in picked), key=lambda job: job.key)
    return laned + [replace(job, lane=OPT_IN_LANE, rank=rank) for rank, job in enumerate(extra, 1)]


def lane_label(lane: str | None, rank: int | None) -> str | None:
    """How a report says why a job was chosen: "savings lane, #3"."""
    if lane is None:
        return None
    return {SAVINGS_LANE: f"savings lane, #{rank} by estimated monthly saving",
            RISK_LANE: f"risk lane, #{rank} by risk",
            OPT_IN_LANE: f"opted in by the {OPT_TAG} tag"}.get(lane, lane)


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
