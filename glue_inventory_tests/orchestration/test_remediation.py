"""On the simulator: plans for each kind of action; apply_remediation applies only plans an approver approved, as
CloudTrail shows (dry run by default), refuses a plan whose job changed or whose approval proves nothing, applies
a plan once, finishes a killed run without repeating a step, and runs one at a time; the next inventory records
what the tool, or anyone, changed."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import boto3
import dagster as dg
import pytest
import sqlalchemy as sa

from glue_inventory.analysis.actions.plans import APPROVE_TAG
from glue_inventory.aws.glue_write import job_update
from glue_inventory.keys import encode_partition_key
from glue_inventory.orchestration.assets import DEEP_ASSET_KEYS, GLUE_JOBS, REMEDIATION, REPORT
from glue_inventory.pipeline import materialize, run_pipeline
from glue_inventory.reports.paths import job_report_relpath, remediation_relpath
from glue_inventory.simulate import Fault, build_fleet, start_simulator
from glue_inventory.storage.actions.remediation import current_plans, start_application
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import remediation_applications, remediation_events, remediation_plans
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


def approved_with_definition(engine, kind: str) -> tuple[dict, object, dict]:
    """A plan of `kind`, approved; a Glue client of its Region and the job's live definition."""
    plan = plan_of(engine, kind)
    approve(plan)
    client = glue(plan["region"])
    return plan, client, client.get_job(JobName=plan["job_name"])["Job"]


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
    page = (reports / remediation_relpath(sized["key"])).read_text()
    assert sized["plan_id"] in page and "aws glue update-job" in page and '"aws_glue_job"' in page
    # The right-sizing plan saves what the job's own report says its right-sizing saves.
    job_report = (reports / job_report_relpath(sized["key"])).read_text()
    assert f"saves ${sized['expected_monthly_savings_usd']:,.2f}/month" in job_report
    for plan in plans:
        assert plan["aws_cli"] and plan["terraform"] and plan["risk"]["level"] in ("low", "medium", "high")


def test_dry_run_changes_nothing_then_only_the_approved_plan_is_applied_and_realized(estate):
    sim, instance, engine, reports = estate
    flex = plan_of(engine, "switch_flex")
    approver = approve(flex)
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
    (applied,) = applications(engine)
    assert applied["plan_id"] == flex["plan_id"] and applied["status"] == "applied"
    # The proof is kept: who approved (the assumed-role session), the CloudTrail event, the plan's fingerprint.
    # A session of its own: the default one may hold credentials an earlier test of this worker resolved.
    trail = boto3.Session().client("cloudtrail", region_name=flex["region"])
    (event_id, event_time), = [(e["EventId"], e["EventTime"]) for e in trail.lookup_events()["Events"]]
    assert (applied["approver_arn"], applied["approval_event_id"], applied["plan_fingerprint"]) == (
        approver, event_id, flex["fingerprint"])
    assert applied["approval_event_time"] == event_time and applied["steps_done"] == len(flex["steps"])
    assert (outcome["approver_arn"], outcome["approval_event_id"]) == (approver, event_id)

    # A second run right after changes nothing: the plan is in effect.
    with recording() as calls:
        run = apply_run(instance, dry_run=False)
    (again,) = run.output_for_node("apply_approved_plans")
    assert again["status"] == "already_applied" and again["approver_arn"] == approver, again
    assert f"approved by {approver}" in again["detail"]
    assert definitions(sim) == after and len(applications(engine)) == 1
    assert not [c for c in calls if c.action in ("glue:UpdateJob", "glue:DeleteJob", "glue:DeleteTrigger")]
    (step,) = [e for e in run.all_events if e.event_type_value == "STEP_OUTPUT"]
    table = step.event_specific_data.metadata["outcomes"].value
    assert table.records[0].data["approver"] == approver and table.records[0].data["approval_event"] == event_id

    materialize(instance, [GLUE_JOBS])  # the next inventory
    (event,) = events(engine)
    assert (event["kind"], event["applied_by"], event["plan_id"]) == ("switch_flex", "tool", flex["plan_id"])
    saving = event["monthly_cost_before_usd"] - event["monthly_cost_after_usd"]
    assert saving == pytest.approx(flex["expected_monthly_savings_usd"]) and saving > 0
    materialize(instance, [REMEDIATION, REPORT])
    realized = json.loads((reports / "executive.json").read_text())["savings"]["realized"]
    assert realized["last_90_days"]["monthly_usd"] == round(saving, 2)
    assert realized["changes"][0]["applied_by"] == "tool"
    # The remediation report shows what was applied and the proof of its approval.
    (shown,) = json.loads((reports / "remediation.json").read_text())["applications"]
    assert (shown["plan_id"], shown["approver_arn"], shown["approval_event_id"], shown["plan_fingerprint"]) == (
        flex["plan_id"], approver, event_id, flex["fingerprint"])
    page = (reports / "remediation" / "applications.md").read_text()
    assert approver in page and event_id in page and flex["fingerprint"][:16] in page
    # After the next inventory the plan is no longer made (the job is FLEX): still already applied.
    (later,) = apply(instance, dry_run=False)
    assert later["status"] == "already_applied" and len(applications(engine)) == 1


def test_a_plan_whose_job_changed_is_refused_in_one_line(estate):
    sim, instance, engine, _ = estate
    upgrade, client, live = approved_with_definition(engine, "upgrade_glue_version")
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


def test_only_an_approver_approves_through_either_tagging_api(estate):
    sim, instance, engine, _ = estate
    flex, sized = plan_of(engine, "switch_flex"), plan_of(engine, "rightsize")
    before = definitions(sim)
    bot = approve(flex, role="tag-compliance-bot")  # may tag, may not approve
    # The approver tags through the Resource Groups Tagging API: it counts the same way.
    tagging = as_role(APPROVER_ROLE, "bob", sized["region"]).client("resourcegroupstaggingapi")
    tagging.tag_resources(ResourceARNList=[f"arn:aws:glue:{sized['region']}:{ACCOUNT}:job/{sized['job_name']}"],
                          Tags={APPROVE_TAG: sized["plan_id"]})
    outcomes = {o["key"]: o for o in apply(instance, dry_run=False)}
    refused = outcomes[flex["key"]]
    assert refused["status"] == "refused" and "\n" not in refused["detail"]
    assert refused["detail"].startswith(f"approved by {bot} (CloudTrail event ")
    assert refused["detail"].endswith("who is not in remediation.approvers")
    assert outcomes[sized["key"]]["status"] == "applied", outcomes[sized["key"]]
    assert outcomes[sized["key"]]["approver_arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{APPROVER_ROLE}/bob"
    after = definitions(sim)
    assert {key for key in before if before[key] != after.get(key)} == {(sized["region"], sized["job_name"])}
    assert [row["plan_id"] for row in applications(engine)] == [sized["plan_id"]]


def test_without_cloudtrail_or_approvers_nothing_is_applied(estate, tmp_path, monkeypatch):
    sim, instance, engine, _ = estate
    flex = plan_of(engine, "switch_flex")
    approve(flex)
    before = definitions(sim)
    sim.inject(Fault("LookupEvents"))  # cloudtrail:LookupEvents denied
    (denied,) = apply(instance, dry_run=False)
    assert denied["status"] == "refused" and "\n" not in denied["detail"]
    assert denied["detail"].startswith("CloudTrail cannot be read (AccessDeniedException: ")
    assert "grant cloudtrail:LookupEvents" in denied["detail"]
    sim.clear_faults()
    config = tmp_path / "no-approvers.yaml"
    config.write_text(f"platforms:\n  - name: sim\n    regions: [{', '.join(sim.fleet.regions)}]\n"
                      f"    role_arn: {ROLE_ARN}\n")
    monkeypatch.setenv("GLUE_INVENTORY_CONFIG", str(config))
    (nobody,) = apply(instance, dry_run=False)
    assert nobody["status"] == "refused" and nobody["detail"].startswith("remediation.approvers is empty")
    assert definitions(sim) == before and applications(engine) == []


def test_an_approval_older_than_its_plan_is_refused(estate):
    sim, instance, engine, _ = estate
    flex = plan_of(engine, "switch_flex")
    approve(flex)
    time.sleep(1.1)  # CloudTrail keeps seconds: the plan is made in a later second than the approval
    with engine.begin() as conn:  # the plan as if this inventory were the first to make it
        conn.execute(sa.delete(remediation_plans).where(remediation_plans.c.plan_id == flex["plan_id"]))
    materialize(instance, [REMEDIATION])
    assert plan_of(engine, "switch_flex")["plan_id"] == flex["plan_id"]
    before = definitions(sim)
    (outcome,) = apply(instance, dry_run=False)
    assert outcome["status"] == "refused", outcome
    assert f"is older than plan {flex['plan_id']}" in outcome["detail"]
    assert outcome["detail"].endswith("approve the plan again")
    assert definitions(sim) == before
    approve(flex)  # approved again, after the plan was made
    (outcome,) = apply(instance, dry_run=False)
    assert outcome["status"] == "applied", outcome


KILLED_RUN = """
import os
from datetime import UTC, datetime

from glue_inventory.aws.clients import platform_sessions
from glue_inventory.aws.sessions import SessionMap
from glue_inventory.config import load_settings
from glue_inventory.reports.store import write_reports
from glue_inventory.services.actions.apply import apply_approved, remediation_platforms
from glue_inventory.storage.db import engine_for

settings = load_settings(os.environ["GLUE_INVENTORY_CONFIG"])
apply_approved(engine_for(os.environ["GLUE_INVENTORY_DATABASE_URL"]),
               SessionMap(platform_sessions(remediation_platforms(settings))),
               lambda files: write_reports(os.environ["GLUE_INVENTORY_REPORTS_DIR"], files), dry_run=False,
               run_id="the-killed-run", now=datetime.now(UTC), log=print, approvers=settings.remediation.approvers)
"""


def test_a_killed_run_is_finished_by_the_next_without_repeating_a_step(estate):
    sim, instance, engine, _ = estate
    delete = next(p for p in current_plans(engine) if p["kind"] == "delete_job" and p["applicable"]
                  and any(s["op"] == "delete_trigger" for s in p["steps"]))
    approve(delete)
    client = glue(delete["region"])
    stall = sim.stall("DeleteJob")
    run = subprocess.Popen([sys.executable, "-c", KILLED_RUN], stdout=subprocess.DEVNULL)
    try:
        assert stall.arrived.wait(120), "the run never reached DeleteJob"
    finally:
        run.kill()  # between DeleteTrigger (done, recorded) and DeleteJob (never took effect)
        run.wait()
        stall.release()
    (killed,) = applications(engine)
    assert (killed["status"], killed["dagster_run_id"]) == ("in_progress", "the-killed-run")
    assert killed["steps_done"] == len(delete["steps"]) - 1
    assert delete["job_name"] in {j["Name"] for j in client.get_jobs()["Jobs"]}

    (dry,) = apply(instance)
    assert dry["changes"] == [f"would DeleteJob {delete['job_name']}"]
    assert "finishing run the-killed-run" in dry["detail"]
    sim.reset_call_counts()
    (outcome,) = apply(instance, dry_run=False)
    assert outcome["status"] == "applied" and outcome["changes"] == [f"DeleteJob {delete['job_name']}"], outcome
    assert sim.call_counts["DeleteTrigger"] == 0 and sim.call_counts["DeleteJob"] == 1
    assert delete["job_name"] not in {j["Name"] for j in client.get_jobs()["Jobs"]}
    interrupted, finished = applications(engine)
    assert (interrupted["status"], finished["status"], finished["steps_done"]) == (
        "interrupted", "applied", len(delete["steps"]))
    assert apply(instance, dry_run=False) == []  # the job and its approval tag are gone: nothing left to do


def test_a_run_stopped_after_its_change_took_effect_records_it_without_repeating_it(estate):
    sim, instance, engine, _ = estate
    flex, client, live = approved_with_definition(engine, "switch_flex")
    # A run stopped right after its UpdateJob took effect: its row says no step was done.
    start_application(engine, {"data_job_id": flex["data_job_id"], "plan_id": flex["plan_id"], "kind": flex["kind"],
                               "dagster_run_id": "the-stopped-run", "applied_at": datetime.now(UTC),
                               "status": "in_progress", "changes": [], "error": None, "steps_done": 0,
                               "plan_fingerprint": flex["fingerprint"]})
    client.update_job(JobName=flex["job_name"], JobUpdate=job_update(client, live, {"execution_class": "FLEX"}))
    sim.reset_call_counts()
    (outcome,) = apply(instance, dry_run=False)
    assert outcome["status"] == "applied" and "no step repeated" in outcome["detail"], outcome
    assert sim.call_counts["UpdateJob"] == 0
    assert [row["status"] for row in applications(engine)] == ["interrupted", "applied"]


def test_concurrent_apply_runs_are_prevented(estate):
    sim, instance, engine, _ = estate
    flex = plan_of(engine, "switch_flex")
    approve(flex)
    stall = sim.stall("UpdateJob")  # the first run holds the apply lock while its UpdateJob waits
    first: dict = {}
    thread = threading.Thread(target=lambda: first.update(outcome=apply(instance, dry_run=False)))
    thread.start()
    try:
        assert stall.arrived.wait(120), "the first run never reached UpdateJob"
        from glue_inventory.definitions import defs

        second = defs.get_job_def("apply_remediation").execute_in_process(
            instance=instance, run_config={"ops": {"apply_approved_plans": {"config": {"dry_run": False}}}},
            raise_on_error=False)
        assert not second.success
        (failure,) = [e for e in second.all_events if e.event_type_value == "STEP_FAILURE"]
        assert failure.event_specific_data.user_failure_data.description.startswith(
            "another apply_remediation run is applying plans to this inventory database: wait for it to finish")
        (dry,) = apply(instance)  # a dry run changes nothing: it never waits for the lock
        assert dry["status"] == "would_apply"
    finally:
        stall.release()
        thread.join(120)
    # The dropped UpdateJob is retried (a 503): the first run applies the plan, once.
    assert first["outcome"][0]["status"] == "applied"
    assert [row["status"] for row in applications(engine)] == ["applied"]
