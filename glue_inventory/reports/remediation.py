"""Remediation plans as files: one Markdown page per job and `remediation.json` with every plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from glue_inventory.analysis.remediation_commands import approve_command, aws_cli, terraform_diff
from glue_inventory.reports.formatting import cents, iso, markdown_env, to_json
from glue_inventory.reports.paths import remediation_relpath

Row = Mapping[str, Any]
SCHEMA_VERSION = 1
JSON_FILE = "remediation.json"


def with_commands(plan: Row) -> dict[str, Any]:
    """The plan with the ways to carry it out by hand: AWS CLI commands, a Terraform diff, the approval."""
    return {**plan, "aws_cli": aws_cli(plan), "terraform": terraform_diff(plan), "approve": approve_command(plan)}


def _record(plan: Row) -> dict[str, Any]:
    money = ("expected_monthly_savings_usd", "monthly_cost_before_usd", "monthly_cost_after_usd")
    return {**plan, **{field: cents(plan.get(field)) for field in money}}


def remediation_json(plans: Sequence[Row], generated_at: str | datetime) -> str:
    records = [_record(plan) for plan in plans]
    return to_json({"schema_version": SCHEMA_VERSION, "generated_at": iso(generated_at),
                    "plan_count": len(records), "plans": records})


def plan_page_md(key: str, plans: Sequence[Row], generated_at: str | datetime) -> str:
    """One job's plans: what changes, what it saves, what it risks, and how to apply it."""
    return markdown_env().get_template("remediation_plan.md.j2").render(
        key=key, job_name=plans[0]["job_name"], account_id=plans[0]["account_id"], region=plans[0]["region"],
        plans=[_record(plan) for plan in plans], generated_at=iso(generated_at))


def remediation_files(plans: Sequence[Row], generated_at: str | datetime) -> dict[str, str]:
    """remediation.json and `remediation/<account>/<region>/<job>.md` for every job with a plan."""
    files = {JSON_FILE: remediation_json(plans, generated_at)}
    for key, group in groupby(sorted(plans, key=lambda p: p["key"]), key=lambda p: p["key"]):
        files[remediation_relpath(key)] = plan_page_md(key, list(group), generated_at)
    return files
