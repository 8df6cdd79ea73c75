"""`apply_remediation`: carry out the plans someone approved with the Glue tag `glue-inventory:approve=<plan id>`,
and nothing else. A plan whose job changed since it was made is refused; a dry run only says what it would do;
every change is logged and recorded in `remediation_applications`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from glue_inventory.analysis.remediation import APPROVE_TAG, configuration, fingerprint, spec_configuration
from glue_inventory.analysis.secrets import redact_arguments
from glue_inventory.analysis.tags import tag_value
from glue_inventory.aws.errors import AWS_ERRORS, describe_any, error_code
from glue_inventory.aws.glue import get_job, job_tags
from glue_inventory.aws.glue_write import delete_job, delete_trigger, job_update, update_job
from glue_inventory.aws.parse import parse_job
from glue_inventory.aws.sessions import PlatformUnreachable, SessionMap
from glue_inventory.aws.tagging import tagged_jobs
from glue_inventory.config import OrganizationConfig, PlatformConfig, Settings
from glue_inventory.keys import encode_partition_key
from glue_inventory.reports.formatting import to_json
from glue_inventory.reports.paths import remediation_relpath
from glue_inventory.storage.remediation import current_plans, record_application
from glue_inventory.storage.repository import Bind

Log = Callable[[str], object]
WriteFiles = Callable[[dict[str, str]], list[str]]


@dataclass
class Outcome:
    """What became of one approval: applied, would_apply (dry run), refused or failed, and why, in one line."""

    key: str
    plan_id: str | None
    status: str
    detail: str
    changes: list[str] = field(default_factory=list)


def remediation_platforms(settings: Settings) -> list[PlatformConfig]:
    """The configured platforms, each reaching its account through the remediation role where it assumes one."""
    role = settings.remediation
    platforms = []
    for platform in settings.effective_platforms():
        if platform.role_arn:
            prefix = platform.role_arn.split(":role/", 1)[0]
            platform = platform.model_copy(update={"role_arn": f"{prefix}:role/{role.role_name}",
                                                   "external_id": role.external_id or platform.external_id})
        platforms.append(platform)
    return platforms


def remediation_organization(settings: Settings) -> OrganizationConfig | None:
    """The `organization:` section with the remediation role in place of the member accounts' read-only role."""
    org, role = settings.organization, settings.remediation
    if org is None:
        return None
    return org.model_copy(update={"role_name": role.role_name, "external_id": role.external_id or org.external_id})


def archive_relpath(key: str) -> str:
    """Next to the job's plan page: `remediation/<account>/<region>/<job>.definition.json`."""
    return remediation_relpath(key).removesuffix(".md") + ".definition.json"


def _differences(planned: Mapping[str, Any], live: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} {planned.get(name)} → {live.get(name)}" for name in sorted(live)
                     if planned.get(name) != live.get(name))


def _describe(step: Mapping[str, Any], plan: Mapping[str, Any]) -> str:
    name = plan["job_name"]
    if step["op"] == "archive_job":
        return f"archive the definition of job {name} (secret values redacted)"
    if step["op"] == "delete_trigger":
        return f"DeleteTrigger {step['name']}"
    if step["op"] == "delete_job":
        return f"DeleteJob {name}"
    changes = plan["changes"]
    edits = [f"{field} {changes[field]['before']} → {value}" for field, value in (step.get("set") or {}).items()]
    edits += [f"DefaultArguments {arg} = {value}" for arg, value in (step.get("add_arguments") or {}).items()]
    return f"UpdateJob {name}: " + ", ".join(edits)


class _Applier:
    def __init__(self, bind: Bind, write_files: WriteFiles, dry_run: bool, run_id: str, now: datetime,
                 log: Log) -> None:
        self.bind, self.write_files, self.dry_run, self.run_id, self.now, self.log = (
            bind, write_files, dry_run, run_id, now, log)

    def _run_step(self, glue, step: Mapping[str, Any], plan: Mapping[str, Any], job: Mapping[str, Any]) -> None:
        name = plan["job_name"]
        if step["op"] == "archive_job":
            archived = {**job, "DefaultArguments": redact_arguments(job.get("DefaultArguments") or {}),
                        "NonOverridableArguments": redact_arguments(job.get("NonOverridableArguments") or {})}
            self.write_files({archive_relpath(plan["key"]): to_json(archived)})
        elif step["op"] == "delete_trigger":
            delete_trigger(glue, step["name"])
        elif step["op"] == "delete_job":
            delete_job(glue, name)
        elif step["op"] == "update_job":
            update_job(glue, name, job_update(glue, job, step.get("set") or {}, step.get("remove_arguments") or (),
                                              step.get("add_arguments")))

    def apply(self, glue, plan: Mapping[str, Any]) -> Outcome:
        key, plan_id = plan["key"], plan["plan_id"]
        try:
            job = get_job(glue, plan["job_name"])
        except ClientError as exc:
            if error_code(exc) == "EntityNotFoundException":
                return Outcome(key, plan_id, "refused", "the job no longer exists in Glue")
            raise
        live = spec_configuration(parse_job(job))
        if fingerprint(live) != plan["fingerprint"]:
            changed = _differences(configuration(plan["configuration"]), live)
            return Outcome(key, plan_id, "refused", f"the job changed since plan {plan_id} was made ({changed}): "
                                                    "run the inventory again and approve the new plan")
        done: list[str] = []
        for step in plan["steps"]:
            change = _describe(step, plan)
            if self.dry_run:
                self.log(f"dry run: {key}: would {change}")
                done.append(f"would {change}")
                continue
            try:
                self._run_step(glue, step, plan, job)
            except AWS_ERRORS as exc:
                error = f"{change} failed: {describe_any(exc)}"
                self._record(plan, "failed", done, error)
                return Outcome(key, plan_id, "failed", error, done)
            self.log(f"{key}: {change} (plan {plan_id})")
            done.append(change)
        if self.dry_run:
            return Outcome(key, plan_id, "would_apply", f"dry run: plan {plan_id} would make {len(done)} change(s)",
                           done)
        self._record(plan, "applied", done, None)
        return Outcome(key, plan_id, "applied", f"plan {plan_id} applied: {len(done)} change(s)", done)

    def _record(self, plan: Mapping[str, Any], status: str, changes: list[str], error: str | None) -> None:
        record_application(self.bind, {"data_job_id": plan["data_job_id"], "plan_id": plan["plan_id"],
                                       "kind": plan["kind"], "dagster_run_id": self.run_id, "applied_at": self.now,
                                       "status": status, "changes": changes, "error": error})


def _approvals(session, names: Sequence[str]) -> dict[str, str]:
    """Job name → the plan id its approval tag names, for the Region's tagged jobs."""
    tags = tagged_jobs(session.tagging)
    if tags is None:  # tag:GetResources denied: one GetTags per job that has a plan
        tags = job_tags(None, session.glue, session.resolve_account_id(), session.region, list(names))
    return {name: value for name, job_tags_ in tags.items() if (value := tag_value(job_tags_, APPROVE_TAG))}


def _refusal(key: str, approved: str, plans: Sequence[Mapping[str, Any]]) -> Outcome | None:
    plan = next((p for p in plans if p["plan_id"] == approved), None)
    if plan is None:
        current = ", ".join(p["plan_id"] for p in plans) or "none: run the inventory again"
        return Outcome(key, approved, "refused", f"tag {APPROVE_TAG}={approved} names no current plan of this job "
                                                 f"(current plans: {current})")
    if not plan["applicable"]:
        return Outcome(key, approved, "refused", f"plan {approved} is not applied by glue_inventory: {plan['manual']}")
    return None


def apply_approved(bind: Bind, sessions: SessionMap, write_files: WriteFiles, *, dry_run: bool, run_id: str,
                   now: datetime, log: Log) -> list[Outcome]:
    """Apply (or, in a dry run, describe) every current plan whose job carries its approval tag."""
    by_region: dict[tuple[str, str], dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for plan in current_plans(bind):
        by_region[(plan["account_id"], plan["region"])][plan["job_name"]].append(plan)
    applier = _Applier(bind, write_files, dry_run, run_id, now, log)
    outcomes = []
    # Every reachable Region is read: an approval on a job without a plan is reported, not silently ignored.
    for account, region in sorted(set(by_region) | set(sessions.accounts())):
        jobs = by_region.get((account, region), {})
        try:
            session = sessions.session(account, region)
            approvals = _approvals(session, sorted(jobs))
        except (PlatformUnreachable, *AWS_ERRORS) as exc:
            reason = str(exc) if isinstance(exc, PlatformUnreachable) else describe_any(exc)
            outcomes.append(Outcome(f"{account}/{region}", None, "failed", f"approvals not read: {reason}"))
            continue
        for name, approved in sorted(approvals.items()):
            key = encode_partition_key(account, region, name)
            outcome = _refusal(key, approved, jobs.get(name, []))
            if outcome is None:
                plan = next(p for p in jobs[name] if p["plan_id"] == approved)
                try:
                    outcome = applier.apply(session.glue, plan)
                except AWS_ERRORS as exc:
                    outcome = Outcome(key, approved, "failed", f"GetJob failed: {describe_any(exc)}")
            outcomes.append(outcome)
    return outcomes
