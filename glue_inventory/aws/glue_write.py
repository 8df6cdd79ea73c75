"""Glue writes for `apply_remediation`: update, delete jobs and triggers. Outside the read-only policy: they need
`iam/glue-inventory-remediate.json` and are made only for a plan someone approved."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from glue_inventory.analysis.actions.plans import API_FIELDS, NESTED_API_FIELDS

# Deprecated in favour of MaxCapacity and rejected beside WorkerType (AWS Glue API reference, JobUpdate).
_DROPPED = ("AllocatedCapacity",)


def job_update(glue, job: Mapping[str, Any], changes: Mapping[str, Any],
               remove_arguments: Iterable[str] = (), add_arguments: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JobUpdate that keeps everything of `job` (GetJob's `Job`) but `changes` (plan attribute names), with
    DefaultArguments `remove_arguments` removed and `add_arguments` set.

    UpdateJob replaces the whole definition, so every field JobUpdate accepts is carried over; MaxCapacity
    goes when the job has a worker type, since Glue refuses both (it derives MaxCapacity from the workers).
    """
    accepted = set(glue.meta.service_model.shape_for("JobUpdate").members) - set(_DROPPED)
    update = {field: value for field, value in job.items() if field in accepted and value is not None}
    for attribute, value in changes.items():
        if attribute in NESTED_API_FIELDS:
            parent, child = NESTED_API_FIELDS[attribute]
            update[parent] = {**update.get(parent, {}), child: value}
        else:
            update[API_FIELDS[attribute]] = value
    if update.get("WorkerType"):
        update.pop("MaxCapacity", None)
    removed = set(remove_arguments)
    if removed and update.get("DefaultArguments"):
        update["DefaultArguments"] = {k: v for k, v in update["DefaultArguments"].items() if k not in removed}
    if add_arguments:
        update["DefaultArguments"] = {**update.get("DefaultArguments", {}), **add_arguments}
    return update


def update_job(glue, name: str, update: Mapping[str, Any]) -> None:
    glue.update_job(JobName=name, JobUpdate=dict(update))


def delete_job(glue, name: str) -> None:
    glue.delete_job(JobName=name)


def delete_trigger(glue, name: str) -> None:
    glue.delete_trigger(Name=name)
