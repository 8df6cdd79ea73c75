"""Least privilege: the whole pipeline's AWS calls are in iam/glue-inventory-readonly.json and read-only.

The session-wide check lives in `glue_inventory_tests/aws_calls.py` (every test's calls, checked when the
session ends); these tests prove the recorder and the checker work and run the pipeline end to end.
"""

from dataclasses import replace
from datetime import UTC, datetime

import boto3
import dagster as dg
import pytest
import s3fs
import sqlalchemy as sa
import yaml

from glue_inventory.aws.glue import iter_jobs
from glue_inventory.keys import encode_partition_key
from glue_inventory.orchestration.assets import DEEP_ASSET_KEYS
from glue_inventory.pipeline import materialize, run_pipeline
from glue_inventory.simulate import Fault, build_fleet, build_organization, start_simulator
from glue_inventory.simulate.organization import MEMBERS
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import data_jobs, platforms
from glue_inventory_tests.aws_calls import (
    CONDITIONAL,
    ORGANIZATION_POLICY_PATH,
    POLICY_PATH,
    REMEDIATE_POLICY_PATH,
    ROOT,
    AwsCall,
    iam_action,
    load_policy,
    pattern_is_read_only,
    policy_allows,
    recording,
    violations,
)
from glue_inventory_tests.sim_fixtures import point_at

ACCOUNT = "610987654321"
MEMBER_TEMPLATE = ROOT / "iam" / "glue-inventory-member-role.yaml"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/glue-inventory-readonly"
REPORTS_BUCKET = "glue-inventory-reports"
# What one refresh with a deep analysis and the executive report must call (docs/configuration.md).
PIPELINE_ACTIONS = {
    "sts:AssumeRole", "sts:GetCallerIdentity", "glue:GetJobs", "glue:GetJobRuns", "tag:GetResources",
    "glue:GetTags", "cloudwatch:GetMetricData", "s3:GetObject", "ce:GetCostAndUsage", "s3:ListBucket",
    "glue:GetJob",  # the --spark-event-logs-path of a job with the Spark UI (services/event_logs.py)
}


def test_policy_grants_reads_only():
    statements = load_policy()
    assert statements and all(s["Effect"] == "Allow" for s in statements)
    for statement in statements:
        assert "NotAction" not in statement and "NotResource" not in statement, statement["Sid"]
        assert statement.get("Resource"), statement["Sid"]
        for action in statement["Action"]:
            assert pattern_is_read_only(action), f"{statement['Sid']}: {action} grants writes"
    assume = [s for s in statements if "sts:AssumeRole" in s["Action"]]
    # Role chaining is limited to the inventory roles: AssumeRole on "*" would reach any role that trusts us.
    assert assume and {s["Resource"] for s in assume} == {"arn:aws:iam::*:role/glue-inventory-readonly"}
    organization = load_policy(ORGANIZATION_POLICY_PATH)
    assert {a for s in organization for a in s["Action"]} == {
        "organizations:ListRoots", "organizations:ListOrganizationalUnitsForParent",
        "organizations:ListAccountsForParent", "sts:AssumeRole",
        "s3:ListBucket", "s3:GetObject"}  # the billing export, read in the management account


def test_member_role_template_holds_the_read_only_policy_and_an_external_id_trust():
    template = yaml.safe_load(MEMBER_TEMPLATE.read_text(encoding="utf-8"))
    role = template["Resources"]["InventoryRole"]
    assert role["Type"] == "AWS::IAM::Role" and role["Properties"]["RoleName"] == {"Ref": "RoleName"}
    (policy,) = role["Properties"]["Policies"]
    # The billing export is read in the management account, never through a member role.
    readonly = [s for s in load_policy(POLICY_PATH)
                if s["Sid"] != "AssumeInventoryRoles" and not s["Sid"].startswith("BillingExport")]
    assert policy["PolicyDocument"]["Statement"] == readonly
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole" and trust["Principal"] == {"AWS": {"Ref": "ToolPrincipalArn"}}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    assert template["Parameters"]["RoleName"]["Default"] == "glue-inventory-readonly"


def test_the_billing_export_is_listed_and_read_in_its_bucket_only():
    statements = {s["Sid"]: s for s in load_policy()}
    listing, reading = statements["BillingExportList"], statements["BillingExportRead"]
    assert listing["Action"] == ["s3:ListBucket"] and reading["Action"] == ["s3:GetObject"]
    bucket = listing["Resource"].removeprefix("arn:aws:s3:::")
    assert bucket and "*" not in bucket and "/" not in bucket
    assert reading["Resource"] == f"arn:aws:s3:::{bucket}/*"
    # Nothing else lists a bucket but the Spark event logs, and those under Glue's event-log prefix only.
    assert [sid for sid, s in statements.items() if "s3:ListBucket" in s["Action"]] == [
        "SparkEventLogsList", "BillingExportList"]
    events = statements["SparkEventLogsList"]
    assert events["Condition"] == {"StringLike": {"s3:prefix": "sparkHistoryLogs/*"}}
    assert statements["SparkEventLogsRead"]["Resource"].endswith("/sparkHistoryLogs/*")
    # The tool's principal of an Organization reads the export with the same two statements.
    organization = {s["Sid"]: s for s in load_policy(ORGANIZATION_POLICY_PATH)}
    assert [organization[sid] for sid in ("BillingExportList", "BillingExportRead")] == [listing, reading]


@pytest.mark.parametrize(("service", "operation", "action"), [
    ("glue", "GetJobRuns", "glue:GetJobRuns"),
    ("resourcegroupstaggingapi", "GetResources", "tag:GetResources"),
    ("cloudwatch", "GetMetricData", "cloudwatch:GetMetricData"),
    ("monitoring", "GetMetricData", "cloudwatch:GetMetricData"),
    ("ce", "GetCostAndUsage", "ce:GetCostAndUsage"),
    ("s3", "HeadObject", "s3:GetObject"),
    ("s3", "ListObjectsV2", "s3:ListBucket"),
])
def test_operations_map_to_iam_actions(service, operation, action):
    assert iam_action(service, operation) == action


@pytest.mark.parametrize(("pattern", "read_only"), [
    ("glue:GetJobs", True), ("glue:Get*", True), ("glue:BatchGet*", True), ("sts:AssumeRole", True),
    ("glue:*", False), ("glue:G*", False), ("*", False), ("s3:PutObject", False), ("glue:StartJobRun", False),
    ("sns:Publish", False),
])
def test_read_only_patterns(pattern, read_only):
    assert pattern_is_read_only(pattern) is read_only


def _call(action: str, *frames: str) -> AwsCall:
    return AwsCall(action, action.split(":")[1], frames or ("glue_inventory/aws/glue.py:iter_jobs",))


def test_checker_flags_writes_and_unlisted_reads():
    statements = load_policy()
    assert violations([_call("glue:GetJobs"), _call("tag:GetResources")], statements) == []
    problems = violations([_call("glue:StartJobRun"), _call("glue:GetPartitions"), _call("iam:CreateUser")],
                          statements)
    assert len(problems) == 3
    assert any("glue:StartJobRun is a write" in p for p in problems)
    assert any("glue:GetPartitions is not in iam/glue-inventory-readonly.json" in p for p in problems)
    deny = [*statements, {"Effect": "Deny", "Action": "glue:GetJobs", "Resource": "*"}]
    assert not policy_allows("glue:GetJobs", deny)


def test_conditional_writes_only_from_their_module():
    statements = load_policy()
    assert violations([_call("sns:Publish", "glue_inventory/aws/sns.py:publish")], statements) == []
    assert violations([_call("s3:PutObject", "glue_inventory/reports/store.py:write_reports")], statements) == []
    assert violations([_call("sns:Publish", "glue_inventory/orchestration/assets/inventory.py:glue_jobs")], statements)
    assert violations([_call("s3:PutObject", "glue_inventory/aws/glue.py:iter_jobs")], statements)
    assert violations([_call("glue:UpdateJob", "glue_inventory/aws/glue_write.py:update_job")], statements) == []
    assert violations([_call("glue:UpdateJob", "glue_inventory/aws/glue.py:get_job")], statements)
    assert violations([_call("cloudwatch:PutMetricData", "glue_inventory/aws/cloudwatch.py:publish_metric_data")],
                      statements) == []
    assert violations([_call("cloudwatch:PutMetricData", "glue_inventory/aws/cloudwatch.py:fetch_run_metrics")],
                      statements)
    # CloudTrail is read by remediation's approval check alone, never by the inventory.
    assert violations([_call("cloudtrail:LookupEvents", "glue_inventory/aws/cloudtrail.py:events_named")],
                      statements) == []
    assert violations([_call("cloudtrail:LookupEvents", "glue_inventory/aws/glue.py:iter_jobs")], statements)


def test_only_calls_from_our_code_are_recorded(simulator, sim_env):
    glue = boto3.client("glue")
    with recording() as calls:
        glue.get_jobs(MaxResults=1)  # the test's own call: not ours
        jobs = list(iter_jobs(glue))
    assert jobs
    assert {(c.action, c.caller) for c in calls} == {("glue:GetJobs", "glue_inventory/aws/glue.py:iter_jobs")}


@pytest.fixture
def fleet_env(sqlite_url, tmp_path, monkeypatch):
    """A 33-job fleet (every archetype, two regions) reached through an assumed role, beside a platform on the
    tool's own credentials (its account is asked of STS); reports on S3."""
    fleet = build_fleet(33, 21, datetime.now(UTC), account_id=ACCOUNT)
    with start_simulator(fleet) as sim:
        export = sim.write_cur_export()
        for name, value in sim.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", sqlite_url)
        config = tmp_path / "config.yaml"
        config.write_text(f"platforms:\n  - name: sim\n    regions: [us-east-1, eu-west-1]\n"
                          f"    role_arn: {ROLE_ARN}\n    external_id: glue-inventory\n"
                          "  - name: own-account\n    regions: [us-east-1]\n"
                          f"billing:\n  cur_uri: {export.uri}\n  platform: sim\n")
        monkeypatch.setenv("GLUE_INVENTORY_CONFIG", str(config))
        boto3.client("s3").create_bucket(Bucket=REPORTS_BUCKET)
        monkeypatch.setenv("GLUE_INVENTORY_REPORTS_DIR", f"s3://{REPORTS_BUCKET}/inventory")
        s3fs.S3FileSystem.clear_instance_cache()  # an S3FileSystem cached by an earlier test has its endpoint
        yield sim
        s3fs.S3FileSystem.clear_instance_cache()


def _deep_keys(sim) -> list[str]:
    """A Spark job with metrics and recent runs (CloudWatch is queried) and one holding secrets."""
    spark = next(j for j in sim.fleet.jobs if j.region == "us-east-1" and j.command["Name"] == "glueetl"
                 and j.profile.metrics and j.profile.status == "active" and not j.profile.running)
    secret = next(j for j in sim.fleet.jobs if j.region == "us-east-1" and j.secrets and j is not spark)
    return [encode_partition_key(j.account_id, j.region, j.name) for j in (spark, secret)]


def test_pipeline_calls_are_in_the_policy_and_read_only(fleet_env, sqlite_url):
    sim = fleet_env
    # Tags denied in one region: the per-job GetTags fallback runs too, so its permission is checked.
    sim.inject(Fault("GetResources", region="eu-west-1"))
    with recording() as calls, dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
        for key in _deep_keys(sim):
            materialize(instance, DEEP_ASSET_KEYS, partition_key=key)
        materialize(instance, ["executive_report"])
    assert violations(calls, load_policy()) == []
    actions = {c.action for c in calls}
    assert actions >= PIPELINE_ACTIONS, PIPELINE_ACTIONS - actions
    listing = [c for c in calls if c.action == "s3:ListBucket" and not c.caller.startswith("glue_inventory/reports/")]
    # The billing export is listed by its reader, with the assumed role's credentials (billing.platform), and the
    # Spark event logs of the deep-analysed job by theirs.
    assert listing and all(c.caller.startswith(("glue_inventory/aws/cur.py", "glue_inventory/aws/event_logs.py"))
                           for c in listing)
    event_logs = {c.action for c in calls if c.caller.startswith("glue_inventory/aws/event_logs.py")}
    assert event_logs == {"s3:ListBucket", "s3:GetObject"}
    put = [c for c in calls if c.action == "s3:PutObject"]
    # The only writes are report files in the tool's own bucket, made by the reports code.
    assert put and all(any(f.startswith("glue_inventory/reports/") for f in c.frames) for c in put)
    assert {c.action for c in calls if not c.action.startswith("s3:")} <= {
        a for a in actions if policy_allows(a, load_policy())}
    with engine_for(sqlite_url).connect() as conn:
        regions = dict(conn.execute(sa.select(platforms.c.region, platforms.c.status)).all())
        eu_tags = conn.execute(sa.select(data_jobs.c.tags)
                               .where(data_jobs.c.partition_key.like(f"{ACCOUNT}/eu-west-1/%"))).scalars().all()
    assert regions == {"us-east-1": "ok", "eu-west-1": "ok"}
    assert any(eu_tags), "the GetTags fallback found no tags"
    keys = {o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=REPORTS_BUCKET)["Contents"]}
    assert {"inventory/executive_summary.md", "inventory/inventory.json"} <= keys


def test_organization_pipeline_calls_are_in_the_policies(sqlite_url, tmp_path, monkeypatch):
    """Discovery from the management account, "enabled" Regions asked in each member account, the inventory
    and a deep analysis through the member roles."""
    members = tuple(replace(a, account_id="8" + a.account_id[1:]) for a in MEMBERS)
    fleet = build_organization(16, 9, datetime.now(UTC), management_account_id="940000000001", members=members)
    with start_simulator(fleet) as sim:
        point_at(sim, monkeypatch)
        monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", sqlite_url)
        monkeypatch.setenv("GLUE_INVENTORY_REPORTS_DIR", str(tmp_path / "reports"))
        config = tmp_path / "config.yaml"
        config.write_text(fleet.organization.config_yaml("enabled"))
        monkeypatch.setenv("GLUE_INVENTORY_CONFIG", str(config))
        with recording() as calls, dg.DagsterInstance.ephemeral() as instance:
            run_pipeline(instance, log=lambda _: None, deep_jobs=1)
        with engine_for(sqlite_url).connect() as conn:
            listed = conn.execute(sa.select(platforms.c.account_id, platforms.c.region, platforms.c.status)).all()
    assert violations(calls, load_policy()) == []
    assert {c.action for c in calls} >= {
        "organizations:ListRoots", "organizations:ListOrganizationalUnitsForParent",
        "organizations:ListAccountsForParent", "ec2:DescribeRegions", "sts:AssumeRole", "glue:GetJobs",
        "glue:GetJobRuns", "s3:GetObject"}
    discovery = {c.action for c in calls if c.caller.startswith("glue_inventory/aws/organizations.py")}
    assert discovery and discovery <= {a for s in load_policy(ORGANIZATION_POLICY_PATH) for a in s["Action"]}
    healthy = {a.account_id for a in fleet.organization.inventoried()}
    regions = {region for account, region, status in listed if account in healthy and status == "ok"}
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= regions, "every enabled Region is listed"
    denied = next(a.account_id for a in members if a.role_denied)
    assert [(region, status) for account, region, status in listed if account == denied] == [
        ("us-east-1", "failed")], "an account whose Regions cannot be asked is one failed platform"


def test_remediation_writes_live_in_their_own_policy():
    """glue-inventory-remediate.json grants exactly the writes aws/glue_write.py makes (plus iam:PassRole, which
    Glue checks for UpdateJob); the read-only policy grants none of them."""
    remediate, readonly = load_policy(REMEDIATE_POLICY_PATH), load_policy()
    glue_writes = {action for action, rule in CONDITIONAL.items()
                   if rule.modules == ("glue_inventory/aws/glue_write.py",)}
    assert glue_writes == {"glue:UpdateJob", "glue:DeleteJob", "glue:DeleteTrigger"}
    granted = {a for s in remediate if s["Effect"] == "Allow" for a in s["Action"]}
    writes = {a for a in granted if not pattern_is_read_only(a)}
    assert writes == glue_writes | {"iam:PassRole"}
    assert all(policy_allows(action, remediate) for action in glue_writes | {"glue:GetJob", "tag:GetResources",
                                                                             "cloudtrail:LookupEvents"})
    assert not any(policy_allows(action, readonly) for action in writes | {"cloudtrail:LookupEvents"})
    pass_role = next(s for s in remediate if "iam:PassRole" in s["Action"])
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}}
