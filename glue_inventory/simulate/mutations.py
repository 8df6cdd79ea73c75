"""Changes tests make to a running fleet; each keeps the fleet (and so its truth) and moto in step."""

from __future__ import annotations

from datetime import datetime

from glue_inventory.simulate.fleet import Fleet
from glue_inventory.simulate.runs import SimJobRun
from glue_inventory.simulate.seed import remove_job_from_backend


def delete_job(fleet: Fleet, name: str, region: str) -> None:
    """The job vanishes from Glue; its truth becomes status `deleted`."""
    job = fleet.job(name, region)
    fleet.jobs.remove(job)
    fleet.deleted[job.key] = job
    remove_job_from_backend(job)


def add_runs(fleet: Fleet, name: str, n: int, region: str, state: str = "SUCCEEDED") -> None:
    """`n` runs an hour apart, the newest started a minute before `fleet.now`'s wall-clock successor."""
    if n < 0:
        raise ValueError(f"n must be 0 or more, got {n}")
    job = fleet.job(name, region)
    newest = datetime.now(fleet.now.tzinfo).timestamp() - 60
    base = (max((run.key for run in job.runs + job.expired_runs), default=0) | 0xFFFFF) + 1
    duration = 300 if state != "ERROR" else 0
    for i in range(n):
        started = newest - (n - 1 - i) * 3600
        # moto's list is shared with the job's FakeJob, so appending here is what Glue serves.
        job.runs.append(SimJobRun(job.name, base + i, started, duration, state, job.config))


def expire_runs(fleet: Fleet, older_than: datetime) -> int:
    """Runs started before `older_than` leave Glue (the truth still counts them: the pipeline keeps history)."""
    cutoff = older_than.timestamp()
    dropped = 0
    for job in fleet.jobs:
        keep = [run for run in job.runs if run.started >= cutoff]
        gone = [run for run in job.runs if run.started < cutoff]
        if gone:
            job.expired_runs.extend(gone)
            job.runs[:] = keep  # in place: moto's FakeJob holds this same list
            dropped += len(gone)
    return dropped
