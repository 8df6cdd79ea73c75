"""A remediation plan's steps as AWS CLI commands and as a Terraform diff of `aws_glue_job`, for people who
apply changes themselves or keep their jobs in Terraform."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

from glue_inventory.analysis.actions.plans import API_FIELDS, APPROVE_TAG, NESTED_API_FIELDS

Row = Mapping[str, Any]
# GetJob's Job fields that UpdateJob's JobUpdate does not accept (AWS Glue API reference, JobUpdate), and the
# deprecated AllocatedCapacity, which conflicts with the capacity settings.
NOT_UPDATABLE = (".Name", ".CreatedOn", ".LastModifiedOn", ".ProfileName", ".AllocatedCapacity")


def secret_name(job_name: str, argument: str) -> str:
    """The Secrets Manager name a plan proposes for a secret argument: glue/<job>/<argument without -->."""
    return f"glue/{job_name}/{argument.lstrip('-')}"


def terraform_name(name: str) -> str:
    """A Terraform resource name for a Glue name: letters, digits, '_' and '-', not starting with a digit."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", name) or "_"
    return f"_{cleaned}" if cleaned[0].isdigit() else cleaned


def _jq_program(step: Row, worker_based: bool) -> str:
    removed = [*NOT_UPDATABLE, *((".MaxCapacity",) if worker_based else ())]
    parts = [f"del({', '.join(removed)})"]
    for attribute, value in (step.get("set") or {}).items():
        path = ".".join(NESTED_API_FIELDS.get(attribute, (API_FIELDS.get(attribute, attribute),)))
        parts.append(f".{path} = {json.dumps(value)}")
    for argument in step.get("remove_arguments") or []:
        parts.append(f"del(.DefaultArguments[{json.dumps(argument)}])")
    for argument, value in (step.get("add_arguments") or {}).items():
        parts.append(f".DefaultArguments[{json.dumps(argument)}] = {json.dumps(value)}")
    return " | ".join(parts)


def aws_cli(plan: Row) -> list[str]:
    """The plan's steps as AWS CLI commands (jq edits the definition: UpdateJob replaces the whole job)."""
    region, name = shlex.quote(plan["region"]), shlex.quote(plan["job_name"])
    job = f"--region {region} --job-name {name}"
    after = plan.get("configuration") or {}
    worker_based = bool((plan["steps"][-1].get("set") or {}).get("worker_type") or after.get("worker_type"))
    lines = []
    for step in plan["steps"]:
        op = step["op"]
        if op == "archive_job":
            lines.append(f"aws glue get-job {job} --query Job > job-definition.json  # holds argument values: "
                         "keep it like a secret")
        elif op == "delete_trigger":
            lines.append(f"aws glue delete-trigger --region {region} --name {shlex.quote(step['name'])}")
        elif op == "delete_job":
            lines.append(f"aws glue delete-job {job}")
        elif op == "create_secret":
            secret = secret_name(plan["job_name"], step["argument"])
            lines.append(f"aws secretsmanager create-secret --region {region} --name {shlex.quote(secret)} "
                         "--secret-string file://secret-value.txt  # the value, from a file, never the command line")
        elif op == "update_job":
            lines += [f"aws glue get-job {job} --query Job > job.json",
                      f"jq {shlex.quote(_jq_program(step, worker_based))} job.json > job-update.json",
                      f"aws glue update-job {job} --job-update file://job-update.json"]
    return lines


def approve_command(plan: Row) -> str:
    """The command that approves the plan: the tag `apply_remediation` looks for."""
    arn = f"arn:aws:glue:{plan['region']}:{plan['account_id']}:job/{plan['job_name']}"
    tag = f"{APPROVE_TAG}={plan['plan_id']}"
    return (f"aws glue tag-resource --region {shlex.quote(plan['region'])} --resource-arn {shlex.quote(arn)} "
            f"--tags-to-add {shlex.quote(tag)}")


def _hcl(value: Any) -> str:
    return json.dumps(value)  # HCL string and number literals read like JSON's


def terraform_diff(plan: Row) -> str:
    """The change as a diff of the `aws_glue_job` resource (and its triggers), in Terraform's own words."""
    resource = terraform_name(plan["job_name"])
    name = _hcl(plan["job_name"])
    lines: list[str] = []
    if plan["kind"] == "delete_job":
        lines += [f'-resource "aws_glue_job" "{resource}" {{', f"-  name = {name}", "-}"]
        for step in plan["steps"]:
            if step["op"] == "delete_trigger":
                lines += [f'-resource "aws_glue_trigger" "{terraform_name(step["name"])}" {{',
                          f"-  name = {_hcl(step['name'])}", "-}"]
        return "\n".join(lines)
    lines += [f' resource "aws_glue_job" "{resource}" {{', f"   name = {name}"]
    changes = plan["changes"]
    for attribute in API_FIELDS:
        if attribute in changes:
            before, after = changes[attribute]["before"], changes[attribute]["after"]
            if before is not None:
                lines.append(f"-  {attribute} = {_hcl(before)}")
            lines.append(f"+  {attribute} = {_hcl(after)}")
    if "python_version" in changes:
        change = changes["python_version"]
        lines += ["   command {", f"-    python_version = {_hcl(change['before'])}",
                  f"+    python_version = {_hcl(change['after'])}", "   }"]
    secrets = [step["argument"] for step in plan["steps"] if step["op"] == "create_secret"]
    added = {name: value for step in plan["steps"] for name, value in (step.get("add_arguments") or {}).items()}
    if secrets or added:
        lines.append("   default_arguments = {")
        lines += [f"-    {_hcl(argument)} = (sensitive value)" for argument in secrets]
        lines += [f"+    {_hcl(argument)} = {_hcl(value)}" for argument, value in added.items()]
        lines.append("   }")
    lines.append(" }")
    for argument in secrets:
        lines += [f'+resource "aws_secretsmanager_secret" "{terraform_name(plan["job_name"] + argument)}" {{',
                  f"+  name = {_hcl(secret_name(plan['job_name'], argument))}", "+}"]
    return "\n".join(lines)
