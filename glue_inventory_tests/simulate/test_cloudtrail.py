"""The simulator's CloudTrail: every tag call recorded with its caller, served by LookupEvents as AWS pages it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from glue_inventory.simulate import build_fleet, start_simulator

ACCOUNT = "640987654321"


@pytest.fixture
def sim():
    with start_simulator(build_fleet(6, 3, datetime.now(UTC), account_id=ACCOUNT)) as sim:
        yield sim


def _clients(sim, credentials: dict | None = None) -> dict:
    env = sim.env()
    keys = ({"aws_access_key_id": credentials["AccessKeyId"], "aws_secret_access_key": credentials["SecretAccessKey"],
             "aws_session_token": credentials["SessionToken"]} if credentials else
            {"aws_access_key_id": env["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"]})
    session = boto3.Session(region_name="us-east-1", **keys)
    return {name: session.client(name, endpoint_url=sim.endpoint_url)
            for name in ("glue", "resourcegroupstaggingapi", "cloudtrail", "sts")}


def _as_role(sim, role: str, session_name: str) -> dict:
    sts = _clients(sim)["sts"]
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}",
                                  RoleSessionName=session_name)["Credentials"]
    return _clients(sim, credentials)


def _arn(sim, index: int) -> str:
    job = [j for j in sim.fleet.jobs if j.region == "us-east-1"][index]
    return f"arn:aws:glue:us-east-1:{ACCOUNT}:job/{job.name}"


def test_tag_calls_are_served_newest_first_with_the_callers_identity(sim):
    first, second = _arn(sim, 0), _arn(sim, 1)
    approver = _as_role(sim, "change-approvers", "alice")
    approver["glue"].tag_resource(ResourceArn=first, TagsToAdd={"glue-inventory:approve": "rp-1"})
    _clients(sim)["resourcegroupstaggingapi"].tag_resources(ResourceARNList=[second], Tags={"team": "data"})
    assert approver["glue"].get_tags(ResourceArn=first)["Tags"]["glue-inventory:approve"] == "rp-1"
    assert _clients(sim)["glue"].get_tags(ResourceArn=second)["Tags"]["team"] == "data"

    trail = _clients(sim)["cloudtrail"]
    events = trail.lookup_events()["Events"]
    assert [e["EventName"] for e in events] == ["TagResources", "TagResource"]  # newest first
    record = json.loads(events[1]["CloudTrailEvent"])
    assert record["eventID"] == events[1]["EventId"] and record["eventSource"] == "glue.amazonaws.com"
    assert record["requestParameters"] == {"resourceArn": first, "tagsToAdd": {"glue-inventory:approve": "rp-1"}}
    identity = record["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/change-approvers/alice"
    assert identity["sessionContext"]["sessionIssuer"]["arn"] == f"arn:aws:iam::{ACCOUNT}:role/change-approvers"
    assert abs(datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00")) - datetime.now(UTC)) < \
        timedelta(minutes=1)
    tagging = json.loads(events[0]["CloudTrailEvent"])
    assert tagging["requestParameters"] == {"resourceARNList": [second], "tags": {"team": "data"}}
    assert tagging["userIdentity"] == {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root",
                                       "accountId": ACCOUNT, "accessKeyId": sim.access_key_id}
    only = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "TagResource"}])
    assert [e["EventId"] for e in only["Events"]] == [events[1]["EventId"]]
    # Another Region's history is its own.
    assert boto3.client("cloudtrail", region_name="eu-west-1", endpoint_url=sim.endpoint_url,
                        aws_access_key_id=sim.access_key_id,
                        aws_secret_access_key=sim.secret_access_key).lookup_events()["Events"] == []


def test_lookup_events_pages_like_aws(sim):
    glue, trail = _clients(sim)["glue"], _clients(sim)["cloudtrail"]
    arn = _arn(sim, 0)
    for index in range(7):
        glue.tag_resource(ResourceArn=arn, TagsToAdd={"n": str(index)})
    pages = list(trail.get_paginator("lookup_events").paginate(PaginationConfig={"PageSize": 3}))
    assert [len(p["Events"]) for p in pages] == [3, 3, 1]
    values = [json.loads(e["CloudTrailEvent"])["requestParameters"]["tagsToAdd"]["n"]
              for p in pages for e in p["Events"]]
    assert values == [str(i) for i in reversed(range(7))]
    future = datetime.now(UTC) + timedelta(hours=1)
    assert trail.lookup_events(StartTime=future)["Events"] == []
    with pytest.raises(ClientError, match="InvalidMaxResults"):
        trail.lookup_events(MaxResults=51)
    with pytest.raises(ClientError, match="InvalidLookupAttributes"):
        trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "TagResource"}] * 2)

