"""Remediation plans as files: one Markdown page per job and `remediation.json` with every plan; what
`apply_remediation` applied, with the proof of each approval, in `remediation/applications.md` and the JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from glue_inventory.analysis.actions.commands import approve_command, aws_cli, terraform_diff
from glue_inventory.reports.formatting import cents, iso, markdown_env, to_json
from glue_inventory.reports.paths import remediation_relpath

Row = Mapping[str, Any]
SCHEMA_VERSION = 2  # 2: `applications`
JSON_FILE = "remediation.json"
APPLICATIONS_FILE = "remediation/applications.md"
# What the report says of each application: the proof of its approval and what it did.
APPLICATION_FIELDS = ("key", "plan_id", "kind", "status", "applied_at", "dagster_run_id", "approver_arn",
                      "approval_event_id", "approval_event_time", "plan_fingerprint", "steps_done", "changes", "error")


def with_commands(plan: Row) -> dict[str, Any]:
    """The plan with the ways to carry it out by hand: AWS CLI commands, a Terraform diff, the approval."""
    return {**plan, "aws_cli": aws_cli(plan), "terraform": terraform_diff(plan), "approve": approve_command(plan)}


def _record(plan: Row) -> dict[str, Any]:
    money = ("expected_monthly_savings_usd", "monthly_cost_before_usd", "monthly_cost_after_usd")
    return {**plan, **{field: cents(plan.get(field)) for field in money}}


def _application(row: Row) -> dict[str, Any]:
    return {name: iso(row[name]) if isinstance(row.get(name), datetime) else row.get(name)
            for name in APPLICATION_FIELDS}


def remediation_json(plans: Sequence[Row], generated_at: str | datetime, applications: Sequence[Row] = ()) -> str:
    records = [_record(plan) for plan in plans]
    return to_json({"schema_version": SCHEMA_VERSION, "generated_at": iso(generated_at),
                    "plan_count": len(records), "plans": records,
                    "applications": [_application(row) for row in applications]})


def applications_md(applications: Sequence[Row], generated_at: str | datetime) -> str:
    """What apply_remediation did, newest first: who approved each plan (the CloudTrail event) and the result."""
    return markdown_env().get_template("remediation_applications.md.j2").render(
        applications=[_application(row) for row in applications], generated_at=iso(generated_at))


def plan_page_md(key: str, plans: Sequence[Row], generated_at: str | datetime) -> str:
    """One job's plans: what changes, what it saves, what it risks, and how to apply it."""
    return markdown_env().get_template("remediation_plan.md.j2").render(
        key=key, job_name=plans[0]["job_name"], account_id=plans[0]["account_id"], region=plans[0]["region"],
        plans=[_record(plan) for plan in plans], generated_at=iso(generated_at))


def remediation_files(plans: Sequence[Row], generated_at: str | datetime,
                      applications: Sequence[Row] = ()) -> dict[str, str]:
    """remediation.json, `remediation/<account>/<region>/<job>.md` for every job with a plan, and
    `remediation/applications.md`."""
    files = {JSON_FILE: remediation_json(plans, generated_at, applications),
             APPLICATIONS_FILE: applications_md(applications, generated_at)}
    for key, group in groupby(sorted(plans, key=lambda p: p["key"]), key=lambda p: p["key"]):
        files[remediation_relpath(key)] = plan_page_md(key, list(group), generated_at)
    return files
