"""Who approved a plan: CloudTrail records of tag calls, approver patterns, and every reason to refuse."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from glue_inventory.analysis.actions.approvals import (
    Approval,
    judge,
    matching_approver,
    newest_approval_event,
    tag_event,
)
from glue_inventory.analysis.actions.plans import APPROVE_TAG
from glue_inventory.config import ConfigError, load_settings

ACCOUNT = "111122223333"
JOB = f"arn:aws:glue:us-east-1:{ACCOUNT}:job/nightly"
PLAN_MADE = datetime(2026, 12, 1, 10, 0, 0, 400_000, tzinfo=UTC)
APPROVERS = [f"arn:aws:iam::{ACCOUNT}:role/change-approvers", f"arn:aws:iam::{ACCOUNT}:user/lead-*"]


def _session(role: str, session: str, path: str = "") -> dict:
    return {"type": "AssumedRole", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{ACCOUNT}:role/{path}{role}"}}}


def _glue(identity: dict, tags: dict, when: str = "2026-12-02T09:00:00Z", arn: str = JOB, **extra) -> dict:
    return {"eventSource": "glue.amazonaws.com", "eventName": "TagResource", "eventID": "e-glue",
            "eventTime": when, "userIdentity": identity, "requestParameters": {"resourceArn": arn, "tagsToAdd": tags},
            **extra}


def _tagging(identity: dict, arns: list[str], tags: dict, when: str = "2026-12-02T09:00:00Z") -> dict:
    return {"eventSource": "tagging.amazonaws.com", "eventName": "TagResources", "eventID": "e-tagging",
            "eventTime": when, "userIdentity": identity, "requestParameters": {"resourceARNList": arns, "tags": tags}}


def test_both_tag_apis_are_read_and_other_events_ignored():
    glue = tag_event(_glue(_session("change-approvers", "alice"), {APPROVE_TAG: "rp-1"}))
    assert glue.resource_arns == (JOB,) and glue.tags == {APPROVE_TAG: "rp-1"}
    assert glue.principals() == [f"arn:aws:sts::{ACCOUNT}:assumed-role/change-approvers/alice",
                                 f"arn:aws:iam::{ACCOUNT}:role/change-approvers"]
    assert glue.event_time == datetime(2026, 12, 2, 9, tzinfo=UTC)
    tagging = tag_event(_tagging({"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/lead-ana"},
                                 [JOB, JOB + "2"], {APPROVE_TAG: "rp-1"}))
    assert tagging.resource_arns == (JOB, JOB + "2") and tagging.principals() == [
        f"arn:aws:iam::{ACCOUNT}:user/lead-ana"]
    assert tag_event({"eventSource": "lambda.amazonaws.com", "eventName": "TagResource"}) is None


@pytest.mark.parametrize(("identity", "approver"), [
    (_session("change-approvers", "alice"), APPROVERS[0]),
    # A role with a path: the session ARN drops it, the issuer keeps it; the pattern names the issuer.
    (_session("change-approvers", "bob", path="team/"), None),
    ({"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/lead-ana"}, APPROVERS[1]),
    ({"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/ana"}, None),
    (_session("tag-compliance-bot", "run-7"), None),
    # The same role name in another account is another principal.
    ({"type": "AssumedRole", "arn": "arn:aws:sts::999988887777:assumed-role/change-approvers/eve",
      "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::999988887777:role/change-approvers"}}}, None),
    # An IAM user cannot pass for a role: only an AssumedRole's issuer counts.
    ({"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/mallory",
      "sessionContext": {"sessionIssuer": {"arn": APPROVERS[0]}}}, None),
])
def test_approver_patterns_match_the_caller_or_its_role(identity, approver):
    assert matching_approver(APPROVERS, tag_event(_glue(identity, {APPROVE_TAG: "rp-1"}))) == approver


def test_session_patterns_and_wildcards():
    event = tag_event(_glue(_session("AWSReservedSSO_Approver_0a1b", "alice@example.com"), {APPROVE_TAG: "rp-1"}))
    assert matching_approver([f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Approver_*/*@example.com"],
                             event)
    assert not matching_approver([f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Approver_*/*@other.org"],
                                 event)
    assert not matching_approver([f"arn:aws:iam::{ACCOUNT}:role/change-approvers."], tag_event(
        _glue(_session("change-approversX", "a"), {APPROVE_TAG: "rp-1"})))  # `.` is literal


def test_the_newest_successful_approval_of_the_job_counts():
    events = [tag_event(e) for e in (
        _glue(_session("x", "a"), {"owner": "data"}),  # another tag
        _glue(_session("x", "a"), {APPROVE_TAG: "rp-9"}, arn=JOB + "-other"),  # another job
        _glue(_session("x", "a"), {APPROVE_TAG: "rp-9"}, errorCode="AccessDenied"),  # refused by an SCP
        _glue(_session("change-approvers", "alice"), {APPROVE_TAG: "rp-1"}),
        _glue(_session("change-approvers", "bob"), {APPROVE_TAG: "rp-0"}),
    )]
    assert newest_approval_event(events, JOB) is events[3]
    assert newest_approval_event(events[:3], JOB) is None


def test_judge_proves_an_approval_or_says_why_not():
    good = tag_event(_glue(_session("change-approvers", "alice"), {APPROVE_TAG: "rp-1"}))
    assert judge(good, "rp-1", APPROVERS, PLAN_MADE, 90) == Approval(good.principal_arn, "e-glue", good.event_time)
    reasons = {
        "empty": judge(good, "rp-1", [], PLAN_MADE, 90),
        "none": judge(None, "rp-1", APPROVERS, PLAN_MADE, 90),
        "other plan": judge(good, "rp-2", APPROVERS, PLAN_MADE, 90),
        "older": judge(tag_event(_glue(_session("change-approvers", "alice"), {APPROVE_TAG: "rp-1"},
                                       when="2026-11-30T23:59:59Z")), "rp-1", APPROVERS, PLAN_MADE, 90),
        "not approver": judge(tag_event(_glue(_session("tag-bot", "t"), {APPROVE_TAG: "rp-1"})), "rp-1", APPROVERS,
                              PLAN_MADE, 90),
    }
    assert "remediation.approvers is empty" in reasons["empty"]
    assert "no CloudTrail event of the last 90 days" in reasons["none"]
    assert f"set {APPROVE_TAG}=rp-1, not rp-2" in reasons["other plan"]
    assert "is older than plan rp-1 (2026-12-01 10:00:00Z)" in reasons["older"]
    assert reasons["not approver"].startswith(f"approved by arn:aws:sts::{ACCOUNT}:assumed-role/tag-bot/t (")
    assert all(isinstance(r, str) and "\n" not in r for r in reasons.values())
    # CloudTrail keeps seconds: an approval in the second the plan was made counts.
    same_second = tag_event(_glue(_session("change-approvers", "a"), {APPROVE_TAG: "rp-1"},
                                  when="2026-12-01T10:00:00Z"))
    assert isinstance(judge(same_second, "rp-1", APPROVERS, PLAN_MADE, 90), Approval)


@pytest.mark.parametrize(("pattern", "problem"), [
    ("*", "not an IAM principal ARN"),
    (f"arn:aws:iam::*:role/{'approvers'}", "not an IAM principal ARN"),
    (f"arn:aws:iam::{ACCOUNT}:role/*", "every principal of its kind"),
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/*/alice", "every principal of its kind"),
    (f"arn:aws:glue:us-east-1:{ACCOUNT}:job/x", "not an IAM principal ARN"),
])
def test_approver_patterns_are_checked_when_the_config_is_read(tmp_path, pattern, problem):
    config = tmp_path / "config.yaml"
    config.write_text(f"remediation:\n  approvers: ['{pattern}']\n")
    with pytest.raises(ConfigError, match=problem):
        load_settings(str(config))


def test_valid_approver_patterns_load(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("remediation:\n  approvers:\n" + "".join(f"    - {p}\n" for p in [
        *APPROVERS, f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Approver_*/*",
        f"arn:aws:iam::{ACCOUNT}:root"]))
    assert load_settings(str(config)).remediation.approvers[:2] == APPROVERS
