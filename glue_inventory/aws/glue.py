"""Glue reads: the job list, tags per job, and run history fetched incrementally."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from glue_inventory.analysis.status import FINISHED_STATES
from glue_inventory.aws.parse import parse_timestamp

# Largest pages the APIs accept (AWS Glue API reference: GetJobs MaxResults ≤ 1000, GetJobRuns MaxResults ≤ 200).
GET_JOBS_PAGE = 1000
GET_JOB_RUNS_PAGE = 200
# A refresh's first page of a job whose history is stored: it usually holds a few new runs at most, and the
# client parsed a page of 200 runs it already had for each job (most of a refresh's CPU, and more for Glue to
# send). A job with more new runs than this goes on with full pages: one call more.
REFRESH_FIRST_PAGE = 50

def iter_jobs(glue) -> Iterator[dict]:
    """Every job definition in the region, 1000 per call."""
    token = None
    while True:
        params = {"MaxResults": GET_JOBS_PAGE}
        if token:
            params["NextToken"] = token
        page = glue.get_jobs(**params)
        yield from page.get("Jobs", [])
        token = page.get("NextToken")
        if not token:
            return


def job_arn(account_id: str, region: str, name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:glue:{region}:{account_id}:job/{name}"


def job_tags(tagged: Mapping[str, dict[str, str]] | None, glue, account_id: str, region: str,
             names: list[str]) -> dict[str, dict[str, str]]:
    """Tags of each of `names`: from `tagged_jobs`' answer, or one GetTags per job when it was denied."""
    if tagged is not None:
        return {name: tagged.get(name, {}) for name in names}
    return {name: glue.get_tags(ResourceArn=job_arn(account_id, region, name)).get("Tags", {}) for name in names}


@dataclass
class RunFetch:
    """What one job's incremental fetch saw: the pages read and whether the whole history was read."""

    pages: int = 0
    complete: bool = False
    newest_first: bool = True
    seen: int = 0
    changed: list[dict] = field(default_factory=list)


def fetch_new_runs(glue, job_name: str, known: Mapping[str, str], history_complete: bool) -> RunFetch:
    """Runs that are new or changed state since we stored them.

    Glue lists runs newest first, so once a page holds a run we stored as finished, every older run
    is stored too — provided the earlier fetch of this job read its whole history
    (`history_complete`) and every run we hold as unfinished has been seen again. The order is
    checked page by page, never assumed: a listing that is not newest first is read to the end. A refresh
    (history complete, runs stored) asks for `REFRESH_FIRST_PAGE` runs first, full pages after. The runs are
    returned as Glue sent them (aws/responses.py `AS_SENT`), for `aws.parse.parse_job_run`.
    """
    unfinished = {run_id for run_id, state in known.items() if state not in FINISHED_STATES}
    result = RunFetch()
    token = None
    last_started = None
    page_size = REFRESH_FIRST_PAGE if history_complete and known else GET_JOB_RUNS_PAGE
    while True:
        params = {"JobName": job_name, "MaxResults": page_size}
        page_size = GET_JOB_RUNS_PAGE
        if token:
            params["NextToken"] = token
        page = glue.get_job_runs(**params)
        result.pages += 1
        runs = page.get("JobRuns") or []  # as Glue sent it (aws/responses.py AS_SENT): nulls included
        if not isinstance(runs, list):
            raise ValueError(f"GetJobRuns JobRuns: expected a list, got {type(runs).__name__}")
        reached_stored = False
        for run in runs:
            if not isinstance(run, dict):
                raise ValueError(f"GetJobRuns JobRuns[]: expected an object, got {type(run).__name__}")
            run_id, state = run.get("Id"), run.get("JobRunState")
            started = run.get("StartedOn")
            if started is not None:
                if type(started) is not float and type(started) is not int:  # Glue sends epoch seconds
                    started = parse_timestamp(started, f"JobRun {run_id!r}.StartedOn").timestamp()
                if last_started is not None and started > last_started:
                    result.newest_first = False
                last_started = started
            unfinished.discard(run_id)
            stored = known.get(run_id)
            if stored != state or state not in FINISHED_STATES:
                result.changed.append(run)
            elif stored in FINISHED_STATES:
                reached_stored = True
        result.seen += len(runs)
        token = page.get("NextToken")
        if not token:
            result.complete = True
            return result
        # One run cannot show the order; stopping early needs the order seen.
        if history_complete and result.newest_first and result.seen > 1 and reached_stored and not unfinished:
            return result


def get_job(glue, name: str) -> dict:
    """The job's live definition (GetJob `Job`); argument values included, so never store it as is."""
    return glue.get_job(JobName=name)["Job"]


def _job_names(conditions_or_actions: list[dict] | None) -> list[str]:
    return [item["JobName"] for item in conditions_or_actions or [] if item.get("JobName")]


def region_triggers(glue) -> list[dict]:
    """Every trigger of the Region as {name, type, starts: [jobs it starts], watches: [jobs its predicate
    waits for]}. Listed whole: GetTriggers with DependentJobName returns *all* triggers when none starts the job."""
    triggers, token = [], None
    while True:
        page = glue.get_triggers(**({"NextToken": token} if token else {}))
        for trigger in page.get("Triggers", []):
            triggers.append({"name": trigger["Name"], "type": trigger.get("Type"),
                             "starts": _job_names(trigger.get("Actions")),
                             "watches": _job_names((trigger.get("Predicate") or {}).get("Conditions"))})
        token = page.get("NextToken")
        if not token:
            return triggers
