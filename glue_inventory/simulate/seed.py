"""Writes a `Fleet` into moto's in-process backends: Glue jobs, runs, triggers, tags, S3 scripts,
CloudWatch metrics and Cost Explorer answers."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta
from typing import Any

from moto.ce.models import ce_backends
from moto.cloudwatch.models import cloudwatch_backends
from moto.glue.models import FakeJob, glue_backends
from moto.glue.utils import Action, Predicate
from moto.resourcegroupstaggingapi.models import resourcegroupstaggingapi_backends
from moto.s3.models import FakeKey, s3_backends

from glue_inventory.simulate.event_logs import fleet_event_logs
from glue_inventory.simulate.fleet import Fleet, SimJob, schedule_expression, script_bucket
from glue_inventory.simulate.metrics import NAMESPACE, metric_data
from glue_inventory.simulate.truth import run_cost_usd

ROLE = "arn:aws:iam::{account}:role/service-role/AWSGlueServiceRole-etl"
# moto answers each distinct GetCostAndUsage request body with the next queued result; queue plenty.
CE_QUEUED_RESULTS = 200


class GlueOrderedJob(FakeJob):
    """A moto job that lists its runs in Glue's order (newest first) unless told otherwise."""

    runs_newest_first = True

    def get_job_runs(self) -> list:
        runs = super().get_job_runs()
        return sorted(runs, key=lambda run: run.started, reverse=True) if self.runs_newest_first else runs


def reset_account(account_id: str) -> None:
    """Forget everything a previous fleet left in this account (other accounts are untouched)."""
    for backends in (glue_backends, cloudwatch_backends, ce_backends, resourcegroupstaggingapi_backends):
        if account_id in backends:
            backends[account_id].reset()
    if account_id in s3_backends:
        _reset_s3(account_id)


def _reset_s3(account_id: str) -> None:
    """moto's S3 reset closes the objects of every account it ever created (FakeKey.instances_tracked), which
    would break another simulator running in this process: only this account's objects are closed."""
    backend = s3_backends[account_id]["aws"]
    own = [key for bucket in backend.buckets.values() for key in bucket.keys.values() if isinstance(key, FakeKey)]
    tracked, FakeKey.instances_tracked = FakeKey.instances_tracked, own
    try:
        s3_backends[account_id].reset()
    finally:
        FakeKey.instances_tracked = [key for key in tracked if not key.disposed]


def seed_fleet(fleet: Fleet) -> None:
    for account in fleet.accounts:
        reset_account(account)
    for account in fleet.accounts:
        for region in fleet.regions:
            s3_backends[account]["aws"].create_bucket(script_bucket(account, region), region)
    for job in fleet.jobs:
        add_job_to_backend(job, fleet.runs_newest_first)
    _seed_triggers(fleet)
    _seed_metrics(fleet)
    _seed_event_logs(fleet)
    _seed_cost_explorer(fleet)


def add_job_to_backend(job: SimJob, runs_newest_first: bool = True) -> None:
    glue = glue_backends[job.account_id][job.region]
    cfg = job.config
    fake = GlueOrderedJob(
        job.name, ROLE.format(account=job.account_id), dict(job.command), f"{job.profile.schedule} job",
        "", {"MaxConcurrentRuns": 1}, dict(job.default_arguments), {}, {}, job.max_retries,
        None, cfg.timeout_minutes, cfg.max_capacity, None, dict(job.tags), {}, cfg.glue_version,
        cfg.number_of_workers, cfg.worker_type, {}, cfg.execution_class, {}, backend=glue,
    )
    fake.runs_newest_first = runs_newest_first
    fake.created_on = job.created_on
    fake.last_modified_on = job.created_on + timedelta(hours=1)
    fake.job_runs = job.runs  # shared, not copied: a million runs must not exist twice
    glue.jobs[job.name] = fake
    if not job.profile.script_missing:
        s3_backends[job.account_id]["aws"].put_object(job.bucket, job.script_location.split("/", 3)[3],
                                                      job.script.text.encode("utf-8"))


def remove_job_from_backend(job: SimJob, triggers: bool = True) -> None:
    """The job leaves Glue with its tags; with `triggers`, the triggers that start it go too."""
    glue = glue_backends[job.account_id][job.region]
    fake = glue.jobs.pop(job.name, None)
    if fake is not None:
        # moto keeps a deleted job's tags, so the tagging API would still list it; Glue does not.
        glue.tagger.delete_all_tags_for_resource(fake.arn)
    if not triggers:
        return
    for name in [name for name, trigger in glue.triggers.items()
                 if any(action.job_name == job.name for action in trigger.actions)]:
        del glue.triggers[name]


def _seed_triggers(fleet: Fleet) -> None:
    rng = random.Random(fleet.seed)
    previous_daily: dict[str, str] = {}
    for job in fleet.jobs:
        glue = glue_backends[job.account_id][job.region]
        cron = schedule_expression(job.profile.schedule)
        action = [Action({"JobName": job.name})]
        upstream = previous_daily.get(job.region)
        if job.profile.schedule == "daily" and upstream and rng.random() < 0.2:
            predicate = Predicate({"Logical": "ANY", "Conditions": [
                {"LogicalOperator": "EQUALS", "JobName": upstream, "State": "SUCCEEDED"}]})
            glue.create_trigger(f"after {upstream} -> {job.name}"[:255], None, "CONDITIONAL", None, predicate,
                                action, "runs when its upstream succeeds", job.profile.status == "active",
                                {}, {})
        elif cron:
            glue.create_trigger(f"{job.name}-schedule"[:255], None, "SCHEDULED", cron, None, action,
                                f"{job.profile.schedule} schedule", job.profile.status == "active", {}, {})
        if job.profile.schedule == "daily":
            previous_daily[job.region] = job.name


def _seed_metrics(fleet: Fleet) -> None:
    rng = random.Random(fleet.seed + 1)
    per_region: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for job in fleet.jobs:
        per_region[(job.account_id, job.region)].extend(metric_data(job, fleet.now, rng))
    for (account, region), data in per_region.items():
        backend = cloudwatch_backends[account][region]
        # put_metric_data validates per call like the API, which caps a request at 1,000 datums.
        for start in range(0, len(data), 1000):
            backend.put_metric_data(NAMESPACE, data[start:start + 1000])


def _seed_event_logs(fleet: Fleet) -> None:
    for job, key, content in fleet_event_logs(fleet):
        s3_backends[job.account_id]["aws"].put_object(job.bucket, key, content)


def cost_explorer_result(fleet: Fleet, account_id: str | None = None) -> dict[str, Any]:
    """Daily unblended cost by service for the last 30 days; the Glue line is the run cost of the fleet's jobs
    (of `account_id`'s jobs only, when given)."""
    daily: dict[str, float] = defaultdict(float)
    start = fleet.now - timedelta(days=30)
    for job in fleet.jobs:
        if account_id is not None and job.account_id != account_id:
            continue
        for run in job.runs:
            if run.started >= start.timestamp():
                day = run.started_on.date().isoformat()
                daily[day] += run_cost_usd(run, job.command["Name"])
    results = []
    for offset in range(31):
        day = (start + timedelta(days=offset)).date()
        glue = daily.get(day.isoformat(), 0.0)
        others = {"Amazon Simple Storage Service": 41.7, "AmazonCloudWatch": 6.3}
        groups = [{"Keys": ["AWS Glue"], "Metrics": _money(glue)}] + [
            {"Keys": [service], "Metrics": _money(amount)} for service, amount in others.items()]
        results.append({"TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
                        "Total": _money(glue + sum(others.values())), "Groups": groups, "Estimated": False})
    return {"ResultsByTime": results, "DimensionValueAttributes": [], "GroupDefinitions": [
        {"Type": "DIMENSION", "Key": "SERVICE"}]}


def _money(amount: float) -> dict[str, dict[str, str]]:
    value = f"{amount:.10f}"
    return {"UnblendedCost": {"Amount": value, "Unit": "USD"}, "BlendedCost": {"Amount": value, "Unit": "USD"}}


def _seed_cost_explorer(fleet: Fleet) -> None:
    if fleet.organization is None:
        ce_backends[fleet.account_id]["global"].cost_usage_results_queue = \
            [cost_explorer_result(fleet)] * CE_QUEUED_RESULTS
        return
    # In an Organization each member account's Cost Explorer answers for that account.
    for account in fleet.accounts:
        ce_backends[account]["global"].cost_usage_results_queue = \
            [cost_explorer_result(fleet, account)] * CE_QUEUED_RESULTS
