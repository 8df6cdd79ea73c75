"""Job status by inactivity, failure rate and end-of-life Glue versions (docs/rules.md, analysis rules)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime, timedelta

from glue_inventory.analysis.types import JobRun
from glue_inventory.config import Thresholds

# Glue API JobRunState values of a run that has ended, and the subset that ended badly.
FINISHED_STATES = frozenset({"SUCCEEDED", "FAILED", "TIMEOUT", "ERROR", "STOPPED", "EXPIRED"})
FAILED_STATES = frozenset({"FAILED", "TIMEOUT", "ERROR"})
# ... and of a run that has not finished yet.
UNFINISHED_STATES = frozenset({"STARTING", "RUNNING", "STOPPING", "WAITING"})

# Glue API CreateJob: a job created without GlueVersion runs on Glue 0.9.
DEFAULT_GLUE_VERSION = "0.9"


def job_status(
    latest_started_on: datetime | None,
    created_on: datetime | None,
    now: datetime,
    thresholds: Thresholds,
    deleted: bool = False,
) -> str:
    """Status by whole days since the latest run; with no run and no creation date, never_run."""
    if deleted:
        return "deleted"
    if latest_started_on is None:
        if created_on is not None and (now - created_on).days <= thresholds.new_job_days:
            return "new"
        return "never_run"
    days = (now - latest_started_on).days
    if days <= thresholds.active_days:
        return "active"
    if days <= thresholds.idle_days:
        return "idle"
    if days <= thresholds.stale_days:
        return "stale"
    return "abandoned"


def window_start(now: datetime, window_days: int) -> datetime:
    """The earliest StartedOn that still counts as "in the last `window_days` days"."""
    return now - timedelta(days=window_days)


def in_window(run: JobRun, start: datetime) -> bool:
    return run.started_on is not None and run.started_on >= start


def failure_rate(runs: Iterable[JobRun], now: datetime, window_days: int) -> tuple[float, int, int]:
    """(failed ÷ finished, failed, finished) over runs started in the window; rate 0 with no finished run."""
    start = window_start(now, window_days)
    failed = finished = 0
    for run in runs:
        if in_window(run, start) and run.state in FINISHED_STATES:
            finished += 1
            failed += run.state in FAILED_STATES
    return (failed / finished if finished else 0.0), failed, finished


def effective_glue_version(glue_version: str | None) -> str:
    return (glue_version or "").strip() or DEFAULT_GLUE_VERSION


@functools.lru_cache(maxsize=64)  # a few versions, asked for every run of a fleet
def version_tuple(glue_version: str | None) -> tuple[int, ...] | None:
    """(4, 0) for "4.0"; None when the version is not dotted numbers."""
    parts = effective_glue_version(glue_version).split(".")
    if not all(part.isascii() and part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def is_eol(glue_version: str | None, eol_versions: Iterable[str]) -> bool:
    """True for an end-of-life version (no GlueVersion is 0.9)."""
    return version_in(glue_version, eol_versions)


def version_in(glue_version: str | None, versions: Iterable[str]) -> bool:
    """Whether the version is one of `versions`; "2" and "2.0" are the same version."""
    key = _version_key(glue_version)
    return any(_version_key(version) == key for version in versions)


def _version_key(glue_version: str | None) -> tuple[int, ...] | str:
    version = version_tuple(glue_version)
    if version is None:
        return effective_glue_version(glue_version)
    return version + (0,) * (3 - len(version))
