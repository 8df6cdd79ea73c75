"""`apply_remediation`: carry out the plans an approver approved with the Glue tag
`glue-inventory:approve=<plan id>`, and nothing else.

Who set the tag is read from CloudTrail and must match `remediation.approvers` (services/remediation_approvals).
A plan whose job changed since it was made is refused; a dry run only says what it would do. Every step is
recorded in `remediation_applications` as soon as it took effect, so a second run finds the plan applied
(`already_applied`) and a run killed between two steps is finished by the next without repeating one; one run
applies at a time (storage.remediation.apply_lock)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from glue_inventory.analysis.actions.approvals import Approval
from glue_inventory.analysis.actions.plans import APPROVE_TAG, configuration, fingerprint, spec_configuration
from glue_inventory.analysis.code.secrets import redact_arguments
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
from glue_inventory.services.actions.approvals import RegionApprovals
from glue_inventory.storage.actions.remediation import (
    apply_lock,
    current_plans,
    latest_applications,
    start_application,
    update_application,
)
from glue_inventory.storage.repository import Bind

Log = Callable[[str], object]
WriteFiles = Callable[[dict[str, str]], list[str]]


@dataclass
class Outcome:
    """What became of one approval: applied, would_apply (dry run), already_applied, refused or failed, and why,
    in one line; with the proof of the approval where one was found."""

    key: str
    plan_id: str | None
    status: str
    detail: str
    changes: list[str] = field(default_factory=list)
    approver_arn: str | None = None
    approval_event_id: str | None = None
    approval_event_time: str | None = None
    plan_fingerprint: str | None = None

    def with_approval(self, approval: Approval | None, plan_fingerprint: str | None) -> Outcome:
        if approval is not None:
            self.approver_arn, self.approval_event_id = approval.approver_arn, approval.event_id
            self.approval_event_time = approval.event_time.isoformat()
        self.plan_fingerprint = plan_fingerprint
        return self


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


def job_arn(plan: Mapping[str, Any]) -> str:
    return f"arn:aws:glue:{plan['region']}:{plan['account_id']}:job/{plan['job_name']}"


def target_fingerprint(plan: Mapping[str, Any]) -> str | None:
    """The fingerprint of the job once an update plan is in effect (None for a plan that deletes the job)."""
    config = configuration(plan["configuration"])
    updates = [step for step in plan["steps"] if step["op"] == "update_job"]
    if not updates or any(step["op"] == "delete_job" for step in plan["steps"]):
        return None
    for step in updates:
        config.update(step.get("set") or {})
        removed = set(step.get("remove_arguments") or ())
        config["default_argument_names"] = [name for name in config["default_argument_names"] if name not in removed]
    return fingerprint(config)


def _describe(step: Mapping[str, Any], plan: Mapping[str, Any]) -> str:
    name = plan["job_name"]
    if step["op"] == "archive_job":
        return f"archive the definition of job {name} (secret values redacted)"
    if step["op"] == "delete_trigger":
        return f"DeleteTrigger {step['name']}"
    if step["op"] == "delete_job":
        return f"DeleteJob {name}"
    changes = plan["changes"]
    # A right-sizing target repeats the worker type it keeps: only what changes is named.
    edits = [f"{field} {changes[field]['before']} → {value}" for field, value in (step.get("set") or {}).items()
             if field in changes]
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

    def apply(self, glue, plan: Mapping[str, Any], approval: Approval, previous: Mapping[str, Any] | None) -> Outcome:
        """Apply the plan's steps, from the first one `previous` (an unfinished application) did not record."""
        key, plan_id, steps = plan["key"], plan["plan_id"], plan["steps"]
        resumed = previous if previous is not None and previous["status"] in ("in_progress", "failed") \
            and previous["plan_fingerprint"] == plan["fingerprint"] else None
        first = resumed["steps_done"] if resumed is not None else 0
        try:
            job = get_job(glue, plan["job_name"])
        except ClientError as exc:
            if error_code(exc) != "EntityNotFoundException":
                raise
            if resumed is not None and steps[-1]["op"] == "delete_job":  # killed after DeleteJob took effect
                return self._in_effect(plan, approval, resumed, "the job is already deleted")
            return Outcome(key, plan_id, "refused", "the job no longer exists in Glue")
        live = fingerprint(spec_configuration(parse_job(job)))
        if resumed is not None and live == target_fingerprint(plan):  # killed after UpdateJob took effect
            return self._in_effect(plan, approval, resumed, "the job is already in the planned configuration")
        if live != plan["fingerprint"]:
            changed = _differences(configuration(plan["configuration"]), spec_configuration(parse_job(job)))
            return Outcome(key, plan_id, "refused", f"the job changed since plan {plan_id} was made ({changed}): "
                                                    "run the inventory again and approve the new plan")
        finishing = f", finishing run {resumed['dagster_run_id']} ({first} step(s) done)" if resumed and first else ""
        if self.dry_run:
            done = [f"would {_describe(step, plan)}" for step in steps[first:]]
            for change in done:
                self.log(f"dry run: {key}: {change}")
            return Outcome(key, plan_id, "would_apply", f"dry run: plan {plan_id} would make {len(done)} change(s)"
                                                        f"{finishing}", done)
        application = self._start(plan, approval, resumed, first)
        done = []
        for index in range(first, len(steps)):
            change = _describe(steps[index], plan)
            try:
                self._run_step(glue, steps[index], plan, job)
            except AWS_ERRORS as exc:
                error = f"{change} failed: {describe_any(exc)}"
                update_application(self.bind, application, status="failed", error=error)
                return Outcome(key, plan_id, "failed", error, done)
            done.append(change)
            update_application(self.bind, application, steps_done=index + 1, changes=done)
            self.log(f"{key}: {change} (plan {plan_id})")
        update_application(self.bind, application, status="applied")
        return Outcome(key, plan_id, "applied", f"plan {plan_id} applied: {len(done)} change(s){finishing}", done)

    def _start(self, plan: Mapping[str, Any], approval: Approval, previous: Mapping[str, Any] | None,
               first: int) -> int:
        if previous is not None and previous["status"] == "in_progress":  # a failed attempt keeps its error
            update_application(self.bind, previous["id"], status="interrupted")
        return start_application(self.bind, {
            "data_job_id": plan["data_job_id"], "plan_id": plan["plan_id"], "kind": plan["kind"],
            "dagster_run_id": self.run_id, "applied_at": self.now, "status": "in_progress", "changes": [],
            "error": None, "steps_done": first, "plan_fingerprint": plan["fingerprint"],
            "approver_arn": approval.approver_arn, "approval_event_id": approval.event_id,
            "approval_event_time": approval.event_time})

    def _in_effect(self, plan: Mapping[str, Any], approval: Approval, previous: Mapping[str, Any],
                   why: str) -> Outcome:
        """An unfinished application whose last step took effect before its run could record it."""
        detail = f"plan {plan['plan_id']} was in effect ({why}): run {previous['dagster_run_id']} stopped before " \
                 "recording it"
        if self.dry_run:
            return Outcome(plan["key"], plan["plan_id"], "would_apply", f"dry run: {detail}; would record it")
        application = self._start(plan, approval, previous, previous["steps_done"])
        update_application(self.bind, application, status="applied", steps_done=len(plan["steps"]))
        return Outcome(plan["key"], plan["plan_id"], "applied", f"{detail}; recorded, no step repeated")


def _approvals(session, names: Sequence[str]) -> dict[str, str]:
    """Job name → the plan id its approval tag names, for the Region's tagged jobs."""
    tags = tagged_jobs(session.tagging)
    if tags is None:  # tag:GetResources denied: one GetTags per job that has a plan
        tags = job_tags(None, session.glue, session.resolve_account_id(), session.region, list(names))
    # The key exactly as the SCP in iam/ guards it: `Glue-Inventory:Approve` is another tag, and approves nothing.
    return {name: value for name, job_tags_ in tags.items() if (value := (job_tags_.get(APPROVE_TAG) or "").strip())}


def _refusal(key: str, approved: str, plans: Sequence[Mapping[str, Any]]) -> Outcome | None:
    plan = next((p for p in plans if p["plan_id"] == approved), None)
    if plan is None:
        current = ", ".join(p["plan_id"] for p in plans) or "none: run the inventory again"
        return Outcome(key, approved, "refused", f"tag {APPROVE_TAG}={approved} names no current plan of this job "
                                                 f"(current plans: {current})")
    if not plan["applicable"]:
        return Outcome(key, approved, "refused", f"plan {approved} is not applied by glue_inventory: {plan['manual']}")
    return None


def _already_applied(key: str, application: Mapping[str, Any]) -> Outcome:
    when = application["applied_at"]
    detail = (f"plan {application['plan_id']} was applied by run {application['dagster_run_id']} at "
              f"{when:%Y-%m-%d %H:%M:%S}Z (approved by {application['approver_arn'] or 'an unrecorded approver'}): "
              "nothing to do")
    return Outcome(key, application["plan_id"], "already_applied", detail, list(application["changes"] or []),
                   application["approver_arn"], application["approval_event_id"],
                   application["approval_event_time"].isoformat() if application["approval_event_time"] else None,
                   application["plan_fingerprint"])


class _Region:
    """The approvals of one account's Region, judged plan by plan."""

    def __init__(self, applier: _Applier, session, approvals: RegionApprovals,
                 applications: Mapping[str, Mapping[str, Any]]) -> None:
        self.applier, self.session, self.approvals, self.applications = applier, session, approvals, applications

    def outcome(self, key: str, approved: str, plans: Sequence[Mapping[str, Any]]) -> Outcome:
        previous = self.applications.get(approved)
        applied = previous if previous is not None and previous["status"] == "applied" else None
        plan = next((p for p in plans if p["plan_id"] == approved), None)
        if plan is None and applied is not None:  # the next inventory no longer plans what is now in effect
            return _already_applied(key, applied)
        refused = _refusal(key, approved, plans)
        if refused is not None or plan is None:
            return refused or Outcome(key, approved, "refused", f"no current plan {approved}")
        approval = self.approvals.approval(job_arn(plan), approved, plan["created_at"])
        if applied is not None and not (isinstance(approval, Approval) and approval.event_time > applied["applied_at"]):
            return _already_applied(key, applied)  # only an approval given after it applies a plan again
        if not isinstance(approval, Approval):
            return Outcome(key, approved, "refused", approval).with_approval(None, plan["fingerprint"])
        try:
            outcome = self.applier.apply(self.session.glue, plan, approval, None if applied is not None else previous)
        except AWS_ERRORS as exc:
            outcome = Outcome(key, approved, "failed", f"GetJob failed: {describe_any(exc)}")
        return outcome.with_approval(approval, plan["fingerprint"])


def apply_approved(bind: Bind, sessions: SessionMap, write_files: WriteFiles, *, dry_run: bool, run_id: str,
                   now: datetime, log: Log, approvers: Sequence[str]) -> list[Outcome]:
    """Apply (or, in a dry run, describe) every current plan whose job carries its approval tag, set by one of
    `approvers` as CloudTrail shows. Raises ApplyInProgress when another run is applying (not in a dry run)."""
    with nullcontext() if dry_run else apply_lock(bind):
        return _apply_all(bind, sessions, _Applier(bind, write_files, dry_run, run_id, now, log), now, approvers)


def _apply_all(bind: Bind, sessions: SessionMap, applier: _Applier, now: datetime,
               approvers: Sequence[str]) -> list[Outcome]:
    by_region: dict[tuple[str, str], dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for plan in current_plans(bind):
        by_region[(plan["account_id"], plan["region"])][plan["job_name"]].append(plan)
    outcomes = []
    # Every reachable Region is read: an approval on a job without a plan is reported, not silently ignored.
    for account, region in sorted(set(by_region) | set(sessions.accounts())):
        jobs = by_region.get((account, region), {})
        try:
            session = sessions.session(account, region)
            approved = _approvals(session, sorted(jobs))
        except (PlatformUnreachable, *AWS_ERRORS) as exc:
            reason = str(exc) if isinstance(exc, PlatformUnreachable) else describe_any(exc)
            outcomes.append(Outcome(f"{account}/{region}", None, "failed", f"approvals not read: {reason}"))
            continue
        checked = _Region(applier, session, RegionApprovals(session.cloudtrail, approvers, now),
                          latest_applications(bind, approved.values()))
        for name, plan_id in sorted(approved.items()):
            outcomes.append(checked.outcome(encode_partition_key(account, region, name), plan_id, jobs.get(name, [])))
    return outcomes
