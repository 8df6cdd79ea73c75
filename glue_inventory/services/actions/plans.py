"""Remediation plans for the current candidates and deep analyses: built, stored as the current plans and
rendered as `remediation.json` and one page per job."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from glue_inventory.analysis.actions.plans import plans_for_job
from glue_inventory.aws.errors import AWS_ERRORS, describe_any
from glue_inventory.aws.glue import region_triggers
from glue_inventory.aws.sessions import PlatformUnreachable, SessionMap
from glue_inventory.reports.remediation import remediation_files, with_commands
from glue_inventory.storage.actions.remediation import recent_applications, replace_plans
from glue_inventory.storage.analyses import latest_deep
from glue_inventory.storage.candidates import current_candidates
from glue_inventory.storage.jobs import read_jobs
from glue_inventory.storage.repository import Bind

# The applications the report lists: CloudTrail's 90 days, in which each approval can still be looked up.
APPLICATIONS_SHOWN = timedelta(days=90)


@dataclass
class RemediationPlans:
    plans: list[dict]
    files: dict[str, str]
    applications: list[dict] = field(default_factory=list)
    # (account, Region) → why its triggers could not be listed (its delete plans are left to a person).
    errors: dict[tuple[str, str], str] = field(default_factory=dict)

    def by_kind(self) -> dict[str, int]:
        return dict(Counter(plan["kind"] for plan in self.plans))


def _triggers(sessions: SessionMap, targets: set[tuple[str, str]]) -> tuple[dict, dict]:
    triggers, errors = {}, {}
    for account, region in sorted(targets):
        try:
            triggers[(account, region)] = region_triggers(sessions.session(account, region).glue)
        except (PlatformUnreachable, *AWS_ERRORS) as exc:
            errors[(account, region)] = describe_any(exc) if not isinstance(exc, PlatformUnreachable) else str(exc)
    return triggers, errors


def build_plans(bind: Bind, sessions: SessionMap, now: datetime) -> RemediationPlans:
    """A plan for every concrete action of the current candidates (and of deep-analysed jobs right-sizing
    calls for), with its commands; stored as the current plans, rendered as files."""
    jobs = read_jobs(bind)
    candidates = {c["key"]: c for c in current_candidates(bind)}
    # The right-sizing the deep analysis used: from the Spark event log when there was one, else CloudWatch.
    sizing = {job_id: (row["cost_analysis"] or {}).get("rightsizing")
              for job_id, row in latest_deep(bind).items()}
    keys = sorted(set(candidates) | {key for key, job in jobs.items() if sizing.get(job["data_job_id"])})
    live = [key for key in keys if key in jobs and jobs[key]["status"] != "deleted"]
    deleting = {(jobs[k]["account_id"], jobs[k]["region"]) for k in live
                if "inactive" in (candidates.get(k) or {}).get("reasons", [])}
    triggers, errors = _triggers(sessions, deleting)
    plans = []
    for key in live:
        job, candidate = jobs[key], candidates.get(key) or {}
        where = (job["account_id"], job["region"])
        row = {**job, "key": key, "monthly_projection_usd": (job["metrics"] or {}).get("monthly_projection_usd")}
        plans += [with_commands(plan) for plan in plans_for_job(
            row, candidate.get("reasons") or [], candidate.get("savings_by_reason") or {},
            sizing.get(job["data_job_id"]), triggers.get(where), errors.get(where))]
    replace_plans(bind, plans)
    applied = recent_applications(bind, now - APPLICATIONS_SHOWN)
    return RemediationPlans(plans=plans, files=remediation_files(plans, now, applied), applications=applied,
                            errors=errors)
