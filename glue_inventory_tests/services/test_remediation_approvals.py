"""The approval check against the simulator's CloudTrail: found through pages of other tag events, one pass over
the Region's history for all its jobs, and refused when CloudTrail fails part-way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from glue_inventory.analysis.actions.approvals import Approval
from glue_inventory.analysis.actions.plans import APPROVE_TAG
from glue_inventory.aws.clients import PlatformSession
from glue_inventory.config import PlatformConfig
from glue_inventory.services.actions.approvals import RegionApprovals
from glue_inventory.simulate import Fault, build_fleet, start_simulator
from glue_inventory_tests.sim_fixtures import point_at

ACCOUNT = "650987654321"
APPROVERS = [f"arn:aws:iam::{ACCOUNT}:role/change-approvers"]


@pytest.fixture
def sim(monkeypatch):
    with start_simulator(build_fleet(8, 5, datetime.now(UTC), account_id=ACCOUNT)) as sim:
        point_at(sim, monkeypatch)
        yield sim


def _session(sim, role: str) -> boto3.Session:
    credentials = boto3.client("sts", endpoint_url=sim.endpoint_url, region_name="us-east-1",
                               aws_access_key_id=sim.access_key_id, aws_secret_access_key=sim.secret_access_key
                               ).assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}",
                                             RoleSessionName="sam")["Credentials"]
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"], region_name="us-east-1",
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"])


def _approvals(sim) -> RegionApprovals:
    """The check as apply_remediation makes it: a platform on the tool's own credentials (the simulator's)."""
    platform = PlatformConfig(name="sim", regions=["us-east-1"], account_id=ACCOUNT, endpoint_url=sim.endpoint_url)
    return RegionApprovals(PlatformSession(platform, "us-east-1").cloudtrail, APPROVERS, datetime.now(UTC))


def test_approvals_are_found_through_pages_of_other_tag_events_in_one_pass(sim):
    jobs = [f"arn:aws:glue:us-east-1:{ACCOUNT}:job/{j.name}" for j in sim.fleet.jobs if j.region == "us-east-1"]
    made = datetime.now(UTC) - timedelta(minutes=1)
    approver = _session(sim, "change-approvers").client("glue", endpoint_url=sim.endpoint_url)
    approver.tag_resource(ResourceArn=jobs[0], TagsToAdd={APPROVE_TAG: "rp-first"})
    approver.tag_resource(ResourceArn=jobs[1], TagsToAdd={APPROVE_TAG: "rp-second"})
    bot = _session(sim, "tag-compliance-bot").client("glue", endpoint_url=sim.endpoint_url)
    for index in range(120):  # newer events: the approvals are on the third page (50 a page)
        bot.tag_resource(ResourceArn=jobs[2], TagsToAdd={"owner": f"team-{index}"})
    sim.reset_call_counts()
    approvals = _approvals(sim)
    first = approvals.approval(jobs[0], "rp-first", made)
    second = approvals.approval(jobs[1], "rp-second", made)
    assert isinstance(first, Approval) and isinstance(second, Approval)
    assert first.approver_arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/change-approvers/sam"
    # TagResource: 3 pages, read once for both jobs; TagResources: 1 empty page.
    assert sim.call_counts["LookupEvents"] == 4
    refused = approvals.approval(jobs[2], "rp-none", made)
    assert refused.startswith("no CloudTrail event of the last 90 days")
    assert sim.call_counts["LookupEvents"] == 4  # the whole history is already read


def test_cloudtrail_failing_part_way_refuses_every_later_job_too(sim):
    jobs = [f"arn:aws:glue:us-east-1:{ACCOUNT}:job/{j.name}" for j in sim.fleet.jobs if j.region == "us-east-1"]
    glue = _session(sim, "tag-compliance-bot").client("glue", endpoint_url=sim.endpoint_url)
    for index in range(60):
        glue.tag_resource(ResourceArn=jobs[1], TagsToAdd={"owner": f"team-{index}"})
    sim.inject(Fault("LookupEvents", body_contains="NextToken"))  # the second page is denied
    approvals = _approvals(sim)
    made = datetime.now(UTC) - timedelta(minutes=1)
    for job in jobs[:2]:
        reason = approvals.approval(job, "rp-x", made)
        assert reason.startswith("CloudTrail cannot be read (AccessDeniedException: "), reason
