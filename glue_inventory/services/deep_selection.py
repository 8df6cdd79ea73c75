"""The jobs chosen for deep analysis now, read from the inventory (rules in analysis.deep_selection)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from glue_inventory.analysis.deep_selection import (
    CONFIG_COLUMNS,
    DeepInputs,
    change_reason,
    chosen,
    config_fingerprint,
    opt_in,
)
from glue_inventory.storage.analyses import deep_history
from glue_inventory.storage.candidates import current_lanes
from glue_inventory.storage.jobs import live_jobs_with
from glue_inventory.storage.repository import Bind


def load_chosen(bind: Bind) -> list[DeepInputs]:
    """The jobs chosen for deep analysis (`chosen`: the lanes of the current candidate list and the opted-in
    jobs), with what their next analysis would depend on."""
    lanes = current_lanes(bind)
    jobs = [DeepInputs(key=key, data_job_id=job_id, lane=lanes.get(job_id, (None, None))[0],
                       rank=lanes.get(job_id, (None, None))[1], opt_in=opt_in(tags), config=config_fingerprint(config))
            for job_id, key, tags, *config in live_jobs_with(bind, CONFIG_COLUMNS)]
    picked = chosen(jobs)
    stored, scripts, deep = deep_history(bind, [job.data_job_id for job in picked])
    return [replace(job, runs_stored_at=stored.get(job.data_job_id), script_sha=scripts.get(job.data_job_id),
                    analysed_at=deep.get(job.data_job_id, (None, None))[0],
                    analysed_sha=deep.get(job.data_job_id, (None, None))[1]) for job in picked]


def deep_analysis_plan(bind: Bind, previous: Mapping[str, str] | None) -> tuple[dict[str, str], dict[str, str]]:
    """(partition key → reason for each chosen job that needs a deep analysis, configuration of every
    chosen job for the next comparison)."""
    jobs = load_chosen(bind)
    plan = {job.key: reason for job in jobs if (reason := change_reason(job, previous))}
    return plan, {job.key: job.config for job in jobs}
