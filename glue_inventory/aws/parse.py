"""Glue API responses → JobSpec / JobRun, from boto3, AWS CLI JSON, Step Functions results or placebo files.

Anything malformed raises ValueError naming the field and the type found; values are never echoed,
since DefaultArguments and Arguments may hold secrets.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from glue_inventory.analysis.types import JobRun, JobSpec

# Epoch numbers at or above this are milliseconds (Step Functions results), below it seconds (AWS CLI):
# 1e11 seconds is the year 5138, 1e11 milliseconds is March 1973, years before Glue existed.
EPOCH_MILLISECONDS_FROM = 1e11

_PLACEBO_DATETIME_FIELDS = ("year", "month", "day", "hour", "minute", "second", "microsecond")


def _kind(value: object) -> str:
    return type(value).__name__


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected an object, got {_kind(value)}")
    return value


def _str(d: Mapping[str, Any], key: str, where: str) -> str | None:
    value = d.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{where}.{key}: expected a string, got {_kind(value)}")


def _number(d: Mapping[str, Any], key: str, where: str) -> float | None:
    value = d.get(key)
    if value is None:
        return None
    if (type(value) is float or type(value) is int) and 0 <= value < math.inf:  # the common case, at once
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{where}.{key}: expected a non-negative number, got {_kind(value)}")
    return float(value)


def _int(d: Mapping[str, Any], key: str, where: str) -> int | None:
    value = d.get(key)
    if type(value) is int and value >= 0:  # the common case, at once
        return value
    value = _number(d, key, where)
    if value is None:
        return None
    if not value.is_integer():
        raise ValueError(f"{where}.{key}: expected a whole number, got a fraction")
    return int(value)


def _placebo_datetime(value: Mapping[str, Any], where: str = "placebo datetime") -> datetime:
    try:
        parts = {name: value.get(name, 0) for name in _PLACEBO_DATETIME_FIELDS}
        # placebo drops the zone; boto3 had parsed Glue's UTC epoch numbers, so UTC is the best reading.
        return datetime(**parts, tzinfo=UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{where}: not a valid placebo datetime ({exc.__class__.__name__})") from None


def _from_epoch(value: float) -> datetime:
    return datetime.fromtimestamp(value / 1000 if abs(value) >= EPOCH_MILLISECONDS_FROM else value, UTC)


def _epoch(value: float, where: str) -> datetime:
    try:
        return _from_epoch(value)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"{where}: not an ISO-8601 date or epoch number") from None


def parse_timestamp(value: object, where: str = "timestamp") -> datetime | None:
    """A timezone-aware UTC datetime from a datetime, ISO-8601 text, epoch seconds or milliseconds."""
    if value is None:
        return None
    if type(value) is float or type(value) is int:  # a GetJobRuns page as Glue sent it (aws/responses.py)
        return _epoch(value, where)
    if type(value) is datetime and value.tzinfo is UTC:  # what the tool's botocore sessions give
        return value
    if isinstance(value, Mapping) and value.get("__class__") == "datetime":
        return _placebo_datetime(value, where)
    try:
        if isinstance(value, datetime):
            # A naive datetime is read as UTC: that is what Glue sends, whatever the local zone.
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if isinstance(value, str):
            try:
                return parse_timestamp(datetime.fromisoformat(value.strip()), where)
            except ValueError:
                value = float(value)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"{where}: not an ISO-8601 date or epoch number") from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _epoch(value, where)
    raise ValueError(f"{where}: expected a date, got {_kind(value)}")


def _timestamp(d: Mapping[str, Any], key: str, where: str) -> datetime | None:
    """`parse_timestamp` of `d[key]`, an epoch number (as Glue sends it) read without naming the field first."""
    value = d.get(key)
    if type(value) is float or type(value) is int:
        try:
            return _from_epoch(value)
        except (ValueError, OverflowError, OSError):
            pass  # parse_timestamp names the field
    return parse_timestamp(value, f"{where}.{key}")


def _string_map(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    result = {}
    for key, item in _mapping(value, where).items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise ValueError(f"{where}: expected string names and values, got {_kind(key)}: {_kind(item)}")
        result[key] = item
    return result


def parse_tags(value: object, where: str = "Tags") -> dict[str, str]:
    """Tags from Glue GetTags (`{"k": "v"}`) or the tagging API (`[{"Key": "k", "Value": "v"}]`)."""
    if isinstance(value, list):
        pairs = {}
        for index, item in enumerate(value):
            tag = _mapping(item, f"{where}[{index}]")
            key = _str(tag, "Key", f"{where}[{index}]")
            if key is None:
                raise ValueError(f"{where}[{index}].Key: missing")
            pairs[key] = _str(tag, "Value", f"{where}[{index}]") or ""
        return pairs
    return _string_map(value, where)


def _capacity(d: Mapping[str, Any], where: str) -> float | None:
    # AllocatedCapacity is the deprecated name of MaxCapacity; old records may carry only it.
    max_capacity = _number(d, "MaxCapacity", where)
    if max_capacity is not None:
        return max_capacity
    return _number(d, "AllocatedCapacity", where) or None


def parse_job(d: Mapping[str, Any]) -> JobSpec:
    """A JobSpec from a Glue `Job` object (GetJobs, GetJob, BatchGetJobs; CreateJob's `Name` alone)."""
    job = _mapping(d, "Job")
    name = _str(job, "Name", "Job")
    if not name:
        raise ValueError("Job.Name: missing — is this a Glue Job object (GetJobs `Jobs[]`, GetJob `Job`)?")
    where = f"Job {name!r}"
    command = _mapping(job.get("Command") or {}, f"{where}.Command")
    return JobSpec(
        name=name,
        job_type=_str(command, "Name", f"{where}.Command"),
        worker_type=_str(job, "WorkerType", where),
        number_of_workers=_int(job, "NumberOfWorkers", where),
        max_capacity=_capacity(job, where),
        glue_version=_str(job, "GlueVersion", where),
        execution_class=_str(job, "ExecutionClass", where),
        script_location=_str(command, "ScriptLocation", f"{where}.Command"),
        python_version=_str(command, "PythonVersion", f"{where}.Command"),
        created_on=parse_timestamp(job.get("CreatedOn"), f"{where}.CreatedOn"),
        last_modified_on=parse_timestamp(job.get("LastModifiedOn"), f"{where}.LastModifiedOn"),
        default_arguments=_string_map(job.get("DefaultArguments"), f"{where}.DefaultArguments"),
        tags=parse_tags(job.get("Tags"), f"{where}.Tags"),
        role=_str(job, "Role", where),
        timeout_minutes=_int(job, "Timeout", where),
    )


def parse_job_run(d: Mapping[str, Any]) -> JobRun:
    """A JobRun from a Glue `JobRun` object (GetJobRuns, GetJobRun, Step Functions startJobRun.sync)."""
    run = _mapping(d, "JobRun")
    run_id = _str(run, "Id", "JobRun")
    state = _str(run, "JobRunState", "JobRun")
    if not run_id or not state:
        raise ValueError("JobRun.Id and JobRun.JobRunState are required — is this a Glue JobRun object?")
    where = f"JobRun {run_id!r}"
    return JobRun(
        run_id=run_id,
        state=state,
        started_on=_timestamp(run, "StartedOn", where),
        completed_on=_timestamp(run, "CompletedOn", where),
        execution_time_s=_int(run, "ExecutionTime", where),
        dpu_seconds=_number(run, "DPUSeconds", where),
        worker_type=_str(run, "WorkerType", where),
        number_of_workers=_int(run, "NumberOfWorkers", where),
        max_capacity=_capacity(run, where),
        glue_version=_str(run, "GlueVersion", where),
        execution_class=_str(run, "ExecutionClass", where),
        error_message=_str(run, "ErrorMessage", where),
        attempt=_int(run, "Attempt", where) or 0,
    )


def _records(response: Mapping[str, Any], many: str, one: str, bare: str, parse: Callable[[Any], Any]) -> list:
    response = _mapping(response, "response")
    if many in response:
        records = response[many] or []
        if not isinstance(records, list):
            raise ValueError(f"{many}: expected a list, got {_kind(records)}")
        return [parse(record) for record in records]
    if one in response:
        return [parse(response[one])]
    if bare in response:
        return [parse(response)]
    return []


def jobs_in_response(response: Mapping[str, Any]) -> list[JobSpec]:
    """The jobs of a GetJobs/BatchGetJobs (`Jobs`), GetJob (`Job`) or CreateJob (`Name`) response."""
    return _records(response, "Jobs", "Job", "Name", parse_job)


def runs_in_response(response: Mapping[str, Any]) -> list[JobRun]:
    """The runs of a GetJobRuns (`JobRuns`) or GetJobRun (`JobRun`) response, or a bare JobRun object."""
    return _records(response, "JobRuns", "JobRun", "JobRunState", parse_job_run)


def _decode_placebo(obj: dict[str, Any]) -> Any:
    if obj.get("__class__") == "datetime":
        return _placebo_datetime(obj)
    return obj


def load_placebo(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The boto3 response recorded in a placebo file (its `data`), datetimes decoded to UTC.

    A plain JSON response (AWS CLI output) is returned as it is, with its timestamps left for the parsers.
    """
    with open(path, encoding="utf-8") as file:
        document = json.load(file, object_hook=_decode_placebo)
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a JSON object, got {_kind(document)}")
    if "status_code" in document and isinstance(document.get("data"), dict):
        return document["data"]
    return document
