"""On the simulator: plans for each kind of action; apply_remediation applies only plans an approver approved, as
CloudTrail shows (dry run by default), refuses a plan whose job changed or whose approval proves nothing, applies
a plan once, finishes a killed run without repeating a step, and runs one at a time; the next inventory records
what the tool, or anyone, changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import dagster as dg
import pytest
import sqlalchemy as sa

from glue_inventory.analysis.remediation import APPROVE_TAG
from glue_inventory.aws.glue_write import job_update
from glue_inventory.keys import encode_partition_key
from glue_inventory.orchestration.assets import DEEP_ASSET_KEYS, GLUE_JOBS, REMEDIATION, REPORT
from glue_inventory.pipeline import materialize, run_pipeline
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.remediation import current_plans
from glue_inventory.storage.tables import remediation_applications, remediation_events
from glue_inventory_tests.aws_calls import recording
from glue_inventory_tests.sim_fixtures import point_pipeline_at

ACCOUNT = "630987654321"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/glue-inventory-readonly"
APPROVER_ROLE = "change-approvers"


@pytest.fixture
def estate(tmp_path, monkeypatch, sqlite_url):
    """A 40-job fleet inventoried through an assumed role, one over-provisioned Spark job deep-analysed, plans made."""
    fleet = build_fleet(40, 21, datetime.now(UTC), account_id=ACCOUNT)
    config = tmp_path / "config.yaml"
    config.write_text(f"platforms:\n  - name: sim\n    regions: [{', '.join(fleet.regions)}]\n"
                      f"    role_arn: {ROLE_ARN}\n"
                      f"remediation:\n  approvers: ['arn:aws:iam::{ACCOUNT}:role/{APPROVER_ROLE}']\n")
    with start_simulator(fleet) as sim:
        point_pipeline_at(monkeypatch, sim, sqlite_url, tmp_path / "reports", config)
        with dg.DagsterInstance.ephemeral() as instance:
            run_pipeline(instance, log=lambda _: None)
            oversized = next(j for j in fleet.jobs if j.profile.over_provisioned and j.profile.metrics
                             and j.profile.status == "active" and not j.profile.running and j.profile.workers)
            materialize(instance, DEEP_ASSET_KEYS, partition_key=encode_partition_key(ACCOUNT, oversized.region,
                                                                                      oversized.name))
            materialize(instance, [REMEDIATION, REPORT])
            yield sim, instance, engine_for(sqlite_url), tmp_path / "reports"


def glue(region: str = "us-east-1"):
    return boto3.Session().client("glue", region_name=region)


def definitions(sim) -> dict[tuple[str, str], dict]:
    jobs = {}
    for region in sim.fleet.regions:
        for page in glue(region).get_paginator("get_jobs").paginate():
            jobs.update({(region, job["Name"]): job for job in page["Jobs"]})
    return jobs


def as_role(role: str, session_name: str, region: str) -> boto3.Session:
    """A session of someone who assumed `role` (CloudTrail shows the assumed-role session as the caller)."""
    credentials = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}",
                                                  RoleSessionName=session_name)["Credentials"]
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"], region_name=region,
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"])


def approve(plan: dict, role: str = APPROVER_ROLE) -> str:
    """Tag the plan's job as `role` (session "alice"); the assumed-role ARN CloudTrail will show."""
    arn = f"arn:aws:glue:{plan['region']}:{plan['account_id']}:job/{plan['job_name']}"
    session = as_role(role, "alice", plan["region"])
    session.client("glue").tag_resource(ResourceArn=arn, TagsToAdd={APPROVE_TAG: plan["plan_id"]})
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/alice"


def apply_run(instance, dry_run: bool | None = None) -> dg.ExecuteInProcessResult:
    from glue_inventory.definitions import defs

    config = {} if dry_run is None else {"ops": {"apply_approved_plans": {"config": {"dry_run": dry_run}}}}
    result = defs.get_job_def("apply_remediation").execute_in_process(instance=instance, run_config=config)
    assert result.success
    return result


def apply(instance, dry_run: bool | None = None) -> list[dict]:
    return apply_run(instance, dry_run).output_for_node("apply_approved_plans")


def applications(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(sa.select(remediation_applications)
                                                  .order_by(remediation_applications.c.id)).mappings()]


def plan_of(engine, kind: str, **where) -> dict:
    return next(p for p in current_plans(engine) if p["kind"] == kind and p["applicable"]
                and all(p[k] == v for k, v in where.items()))


def events(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(sa.select(remediation_events)).mappings()]


def test_plans_for_each_kind_of_action(estate):
    _, _, engine, reports = estate
    plans = current_plans(engine)
    assert {p["kind"] for p in plans} == {"delete_job", "switch_flex", "rightsize", "upgrade_glue_version",
                                          "move_secrets"}
    written = json.loads((reports / "remediation.json").read_text())
    assert written["plan_count"] == len(plans) and {p["plan_id"] for p in written["plans"]} == {
        p["plan_id"] for p in plans}
    sized = plan_of(engine, "rightsize")
    page = next(reports.glob(f"remediation/{ACCOUNT}/*/{sized['job_name']}.md")).read_text()
    assert sized["plan_id"] in page and "aws glue update-job" in page and '"aws_glue_job"' in page
    # The right-sizing plan saves what the job's own report says its right-sizing saves.
    job_report = next(reports.glob(f"jobs/{ACCOUNT}/*/{sized['job_name']}.md")).read_text()
    assert f"saves ${sized['expected_monthly_savings_usd']:,.2f}/month" in job_report
    for plan in plans:
        assert plan["aws_cli"] and plan["terraform"] and plan["risk"]["level"] in ("low", "medium", "high")


def test_dry_run_changes_nothing_then_only_the_approved_plan_is_applied_and_realized(estate):
    sim, instance, engine, reports = estate
    flex = plan_of(engine, "switch_flex")
    approve(flex)
    before = definitions(sim)
    with recording() as calls:
        (outcome,) = apply(instance)  # dry_run defaults to true
    assert outcome["status"] == "would_apply" and outcome["changes"] == [
        f"would UpdateJob {flex['job_name']}: execution_class STANDARD → FLEX"]
    assert definitions(sim) == before
    assert not [c for c in calls if c.action in ("glue:UpdateJob", "glue:DeleteJob", "glue:DeleteTrigger")]

    (outcome,) = apply(instance, dry_run=False)
    assert outcome["status"] == "applied", outcome
    after = definitions(sim)
    changed = {key for key in before if before[key] != after.get(key)}
    assert changed == {(flex["region"], flex["job_name"])}
    job_before, job_after = before[(flex["region"], flex["job_name"])], after[(flex["region"], flex["job_name"])]
    assert job_after["ExecutionClass"] == "FLEX"
    assert {k for k in job_before if job_before[k] != job_after.get(k)} == {"ExecutionClass", "LastModifiedOn"}
    with engine.connect() as conn:
        (applied,) = conn.execute(sa.select(remediation_applications)).mappings()
    assert applied["plan_id"] == flex["plan_id"] and applied["status"] == "applied"

    materialize(instance, [GLUE_JOBS])  # the next inventory
    (event,) = events(engine)
    assert (event["kind"], event["applied_by"], event["plan_id"]) == ("switch_flex", "tool", flex["plan_id"])
    saving = event["monthly_cost_before_usd"] - event["monthly_cost_after_usd"]
    assert saving == pytest.approx(flex["expected_monthly_savings_usd"]) and saving > 0
    materialize(instance, [REMEDIATION, REPORT])
    realized = json.loads((reports / "executive.json").read_text())["savings"]["realized"]
    assert realized["last_90_days"]["monthly_usd"] == round(saving, 2)
    assert realized["changes"][0]["applied_by"] == "tool"


def test_a_plan_whose_job_changed_is_refused_in_one_line(estate):
    sim, instance, engine, _ = estate
    upgrade = plan_of(engine, "upgrade_glue_version")
    approve(upgrade)
    client = glue(upgrade["region"])
    live = client.get_job(JobName=upgrade["job_name"])["Job"]
    attribute = "number_of_workers" if live.get("WorkerType") else "max_capacity"
    value = live["NumberOfWorkers"] + 1 if live.get("WorkerType") else live["MaxCapacity"] + 1
    client.update_job(JobName=upgrade["job_name"], JobUpdate=job_update(client, live, {attribute: value}))
    secrets = next(p for p in current_plans(engine) if p["kind"] == "move_secrets")
    approve(secrets)
    bogus = plan_of(engine, "delete_job") | {"plan_id": "rp-000000000000"}
    approve(bogus)

    outcomes = {o["key"]: o for o in apply(instance, dry_run=False)}
    refused = outcomes[upgrade["key"]]
    assert refused["status"] == "refused" and "\n" not in refused["detail"]
    assert "changed since plan" in refused["detail"] and f"{attribute} " in refused["detail"]
    assert client.get_job(JobName=upgrade["job_name"])["Job"].get("GlueVersion") == live.get("GlueVersion")
    assert outcomes[secrets["key"]]["status"] == "refused" and "by hand" in outcomes[secrets["key"]]["detail"]
    assert outcomes[bogus["key"]]["status"] == "refused" and "names no current plan" in outcomes[bogus["key"]]["detail"]
    assert all(o["status"] == "refused" for o in outcomes.values())


def test_an_approved_delete_archives_the_job_and_removes_its_trigger(estate):
    sim, instance, engine, reports = estate
    delete = next(p for p in current_plans(engine) if p["kind"] == "delete_job" and p["applicable"]
                  and any(s["op"] == "delete_trigger" for s in p["steps"]))
    trigger = next(s["name"] for s in delete["steps"] if s["op"] == "delete_trigger")
    approve(delete)
    (outcome,) = apply(instance, dry_run=False)
    assert outcome["status"] == "applied", outcome
    client = glue(delete["region"])
    assert delete["job_name"] not in {j["Name"] for j in client.get_jobs()["Jobs"]}
    assert trigger not in {t["Name"] for t in client.get_triggers()["Triggers"]}
    archived = next(reports.glob(f"remediation/{ACCOUNT}/*/*.definition.json")).read_text()
    assert json.loads(archived)["Name"] == delete["job_name"]
    assert not any(secret in archived for job in sim.fleet.deleted.values() for secret in job.secrets)
    materialize(instance, [GLUE_JOBS])
    (event,) = events(engine)
    assert (event["kind"], event["applied_by"], event["monthly_cost_after_usd"]) == ("delete_job", "tool", 0.0)


def test_a_change_made_outside_the_tool_is_realized_savings(estate):
    sim, instance, engine, reports = estate
    flex = plan_of(engine, "switch_flex")
    client = glue(flex["region"])
    live = client.get_job(JobName=flex["job_name"])["Job"]
    client.update_job(JobName=flex["job_name"], JobUpdate=job_update(client, live, {"execution_class": "FLEX"}))
    materialize(instance, [GLUE_JOBS])
    (event,) = events(engine)
    assert (event["kind"], event["applied_by"], event["plan_id"]) == ("switch_flex", "outside", flex["plan_id"])
    materialize(instance, [GLUE_JOBS])  # nothing changed since: nothing recorded twice
    assert len(events(engine)) == 1
    materialize(instance, [REMEDIATION, REPORT])
    summary = Path(reports / "executive_summary.md").read_text()
    saving = event["monthly_cost_before_usd"] - event["monthly_cost_after_usd"]
    assert f"**Savings realized: ${saving:,.2f} per month**" in summary
    dashboard = Path(reports / "dashboard.html").read_text()
    assert f'id="savings-realized">${saving:,.2f}<' in dashboard
    assert "Monthly savings identified and realized" in dashboard
    trend = json.loads((reports / "executive.json").read_text())["trend"]
    assert trend[-1]["savings_realized_usd"] == round(saving, 2)
