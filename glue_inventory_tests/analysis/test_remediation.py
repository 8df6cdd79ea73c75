"""Remediation plans: one per concrete action, exact changes, stable ids, fingerprints that see every change."""

from __future__ import annotations

import shlex

import pytest

from glue_inventory.analysis.actions.commands import aws_cli, terraform_diff, terraform_name
from glue_inventory.analysis.actions.plans import (
    configuration,
    fingerprint,
    plans_for_job,
    spec_configuration,
)
from glue_inventory.analysis.types import JobSpec

KEY = "111122223333/us-east-1/orders etl"


def job(**fields) -> dict:
    row = {"key": KEY, "account_id": "111122223333", "region": "us-east-1", "name": "orders etl", "data_job_id": 7,
           "job_type": "glueetl", "worker_type": "G.2X", "number_of_workers": 10, "max_capacity": 20.0,
           "glue_version": "4.0", "execution_class": "STANDARD", "python_version": "3",
           "script_location": "s3://bucket/orders.py", "default_argument_names": ["--TempDir", "--db_password"],
           "secret_argument_names": ["--db_password"], "status": "active", "monthly_projection_usd": 120.0}
    return row | fields


SIZING = {"status": "over_provisioned", "estimated_monthly_savings_usd": 84.0,
          "recommended": {"worker_type": "G.1X", "number_of_workers": 6, "max_capacity": None, "dpu": 6.0},
          "evidence": {"peak_needed_executors": 4, "available_executors": 9, "runs_with_metrics": 10}}


def by_kind(plans: list[dict]) -> dict[str, dict]:
    return {plan["kind"]: plan for plan in plans}


def test_each_kind_of_action_has_its_plan() -> None:
    plans = by_kind(plans_for_job(job(glue_version="2.0"), ["flex_eligible", "eol_version", "secrets_in_arguments"],
                                  {"flex_eligible": 40.91}, SIZING))
    assert list(plans) == ["switch_flex", "rightsize", "upgrade_glue_version", "move_secrets"]
    flex = plans["switch_flex"]
    assert flex["changes"] == {"execution_class": {"before": "STANDARD", "after": "FLEX"}}
    assert flex["steps"] == [{"op": "update_job", "set": {"execution_class": "FLEX"}}]
    assert flex["expected_monthly_savings_usd"] == 40.91 and flex["monthly_cost_after_usd"] == pytest.approx(79.09)
    assert flex["risk"]["level"] == "low" and flex["applicable"]
    sized = plans["rightsize"]
    # The saving is the right-sizing's own: the figure the job report shows for the same action.
    assert sized["title"] == "Right-size to 6 × G.1X" and sized["expected_monthly_savings_usd"] == 84.0
    assert sized["changes"] == {"worker_type": {"before": "G.2X", "after": "G.1X"},
                                "number_of_workers": {"before": 10, "after": 6}}
    upgrade = plans["upgrade_glue_version"]
    assert upgrade["changes"] == {"glue_version": {"before": "2.0", "after": "4.0"}}
    assert upgrade["risk"]["level"] == "high" and any("Log4j 2" in n for n in upgrade["migration_notes"])
    secrets = plans["move_secrets"]
    assert not secrets["applicable"] and "script" in secrets["manual"]
    assert [step["op"] for step in secrets["steps"]] == ["create_secret", "update_job"]


def test_an_inactive_job_is_deleted_with_the_triggers_that_only_start_it() -> None:
    triggers = [{"name": "nightly", "starts": ["orders etl"], "watches": []},
                {"name": "after-orders", "starts": ["report"], "watches": ["orders etl"]},
                {"name": "other", "starts": ["report"], "watches": []}]
    (plan,) = plans_for_job(job(status="abandoned", secret_argument_names=[]), ["inactive", "flex_eligible"],
                            {"inactive": 0.0, "flex_eligible": 0.0}, None, triggers)
    assert plan["kind"] == "delete_job" and plan["applicable"]
    assert plan["steps"] == [{"op": "archive_job"}, {"op": "delete_trigger", "name": "nightly"},
                             {"op": "delete_job"}]
    assert any("after-orders" in note for note in plan["risk"]["notes"])


@pytest.mark.parametrize(("triggers", "error", "why"), [
    ([{"name": "both", "starts": ["orders etl", "report"], "watches": []}], None, "also start other jobs"),
    (None, "AccessDeniedException: no", "could not be listed"),
])
def test_a_delete_the_tool_cannot_finish_is_left_to_a_person(triggers, error, why) -> None:
    (plan,) = plans_for_job(job(secret_argument_names=[]), ["inactive"], {}, None, triggers, error)
    assert not plan["applicable"] and why in plan["manual"]


def test_no_plan_without_a_concrete_action() -> None:
    measured = job(secret_argument_names=[], default_argument_names=["--TempDir", "--enable-metrics"])
    assert plans_for_job(measured, ["failing", "missing_tags", "high_cost"], {"high_cost": 36.0},
                         {"status": "right_sized", "recommended": {"worker_type": "G.2X"}}) == []
    assert plans_for_job(job(execution_class="FLEX"), ["flex_eligible"], {"flex_eligible": 9.0}) == []


HOURLY = {"runs_30d": 720, "dpu_hours_30d": 720 * 20.0 * 0.5, "capacity_dpu": 20.0}  # half-hour runs on 20 DPU


@pytest.mark.parametrize(("glue_version", "added"), [
    ("4.0", {"--enable-metrics": "true", "--enable-observability-metrics": "true"}),
    ("3.0", {"--enable-metrics": "true"}),  # observability metrics start with Glue 4.0
])
def test_a_high_cost_spark_job_with_nothing_to_measure_gets_its_metrics_enabled(glue_version, added) -> None:
    row = job(glue_version=glue_version, secret_argument_names=[], metrics=HOURLY)
    plan = by_kind(plans_for_job(row, ["high_cost"], {"high_cost": 36.0}))["enable_job_metrics"]
    assert plan["steps"] == [{"op": "update_job", "add_arguments": added}]
    assert plan["changes"] == {f"DefaultArguments {name}": {"before": None, "after": "true"} for name in added}
    assert plan["expected_monthly_savings_usd"] == 0.0 and plan["risk"]["level"] == "low"
    # 720 one-hour metric windows for the runs and as many for ALL runs, of 30 (+20) metrics at $0.30 a month.
    names = 30 + (20 if glue_version == "4.0" else 0)
    assert plan["added_monthly_cost_usd"] == pytest.approx(names * 2 * 720 * 0.30 / 730)
    assert plan["monthly_cost_after_usd"] == pytest.approx(120.0 + plan["added_monthly_cost_usd"])
    assert f"${plan['added_monthly_cost_usd']:,.2f} a month" in plan["risk"]["notes"][1]
    commands = aws_cli(plan)
    assert all(f'.DefaultArguments["{name}"] = "true"' in commands[1] for name in added)
    assert all(f'+    "{name}" = "true"' in terraform_diff(plan) for name in added)


@pytest.mark.parametrize("fields", [
    {"default_argument_names": ["--enable-metrics"]},
    {"default_argument_names": ["--enable-spark-ui", "--spark-event-logs-path"]},
    {"job_type": "pythonshell", "worker_type": None, "number_of_workers": None, "max_capacity": 1.0},
])
def test_no_metrics_plan_where_a_deep_analysis_can_measure_or_right_sizing_does_not_apply(fields) -> None:
    row = job(secret_argument_names=[], metrics=HOURLY) | fields
    assert "enable_job_metrics" not in by_kind(plans_for_job(row, ["high_cost"], {"high_cost": 36.0}))
    assert plans_for_job(job(secret_argument_names=[]), ["flex_eligible"], {"flex_eligible": 1.0})[0]["kind"] \
        == "switch_flex"  # only high_cost calls for it


def test_plan_ids_are_stable_and_name_the_target() -> None:
    first = plans_for_job(job(), ["flex_eligible"], {"flex_eligible": 40.0})[0]
    again = plans_for_job(job(monthly_projection_usd=150.0), ["flex_eligible"], {"flex_eligible": 51.0})[0]
    assert first["plan_id"] == again["plan_id"] and first["plan_id"].startswith("rp-")
    other = plans_for_job(job(key="111122223333/us-east-1/other", name="other"), ["flex_eligible"], {})[0]
    assert other["plan_id"] != first["plan_id"]


@pytest.mark.parametrize(("field", "value"), [
    ("execution_class", "FLEX"), ("worker_type", "G.1X"), ("number_of_workers", 9), ("glue_version", "5.0"),
    ("script_location", "s3://bucket/v2.py"), ("default_argument_names", ["--TempDir"]), ("python_version", "2"),
])
def test_the_fingerprint_sees_every_change(field, value) -> None:
    assert fingerprint(job()) != fingerprint(job(**{field: value}))


def test_stored_and_live_configurations_fingerprint_alike() -> None:
    live = JobSpec(name="orders etl", job_type="glueetl", worker_type="G.2X", number_of_workers=10, max_capacity=20.0,
                   glue_version="4.0", execution_class=None, python_version="3", script_location="s3://bucket/orders.py",
                   default_arguments={"--db_password": "hunter2", "--TempDir": "s3://t/"})
    assert spec_configuration(live) == configuration(job())
    assert "hunter2" not in str(spec_configuration(live))
    assert fingerprint(spec_configuration(live)) == fingerprint(job())


def test_cli_commands_keep_the_whole_definition_and_quote_names() -> None:
    plans = by_kind(plans_for_job(job(name="orders; rm -rf /"), ["flex_eligible"], {"flex_eligible": 1.0}))
    lines = aws_cli(plans["switch_flex"])
    assert [shlex.split(line)[:3] for line in lines] == [["aws", "glue", "get-job"], ["jq", shlex.split(lines[1])[1],
                                                          "job.json"], ["aws", "glue", "update-job"]]
    program = shlex.split(lines[1])[1]
    assert program.startswith("del(.Name, .CreatedOn, .LastModifiedOn, .ProfileName, .AllocatedCapacity, .MaxCapacity)")
    assert program.endswith('.ExecutionClass = "FLEX"')
    assert shlex.split(lines[0])[6] == "orders; rm -rf /"


def test_terraform_diff_shows_the_attributes_that_change() -> None:
    plans = by_kind(plans_for_job(job(glue_version="1.0", python_version="2"), ["eol_version", "secrets_in_arguments"],
                                  {}))
    diff = terraform_diff(plans["upgrade_glue_version"]).splitlines()
    assert diff == [' resource "aws_glue_job" "orders_etl" {', '   name = "orders etl"', '-  glue_version = "1.0"',
                    '+  glue_version = "4.0"', "   command {", '-    python_version = "2"',
                    '+    python_version = "3"', "   }", " }"]
    secrets = terraform_diff(plans["move_secrets"])
    assert '-    "--db_password" = (sensitive value)' in secrets and "aws_secretsmanager_secret" in secrets


@pytest.mark.parametrize(("name", "expected"), [("orders etl", "orders_etl"), ("2024-load", "_2024-load"),
                                                ("ü", "_")])
def test_terraform_names(name, expected) -> None:
    assert terraform_name(name) == expected
