"""The approval tag guarded in IAM: the SCP and the permissions boundary in iam/ deny setting or removing
`glue-inventory:approve` to everyone but the approvers, checked with the evaluator in iam_eval.py (itself tested
here against the IAM user guide's rules for missing keys, set operators and negation)."""

from __future__ import annotations

import pytest

from glue_inventory.analysis.actions.plans import APPROVE_TAG
from glue_inventory_tests.aws_calls import REMEDIATE_POLICY_PATH, ROOT, load_policy
from glue_inventory_tests.iam_eval import (
    ALLOW,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    allowed,
    conditions_hold,
    evaluate,
    tag_context,
)

SCP = load_policy(ROOT / "iam" / "glue-inventory-approvals-scp.json")
BOUNDARY = load_policy(ROOT / "iam" / "glue-inventory-approvals-boundary.json")
# Organizations attaches FullAWSAccess to every root, OU and account unless replaced: the SCP set allows all.
FULL_AWS_ACCESS = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
ACCOUNT = "111122223333"
JOB = f"arn:aws:glue:us-east-1:{ACCOUNT}:job/nightly"
APPROVER = f"arn:aws:iam::{ACCOUNT}:role/change-approvers"
TAG_BOT = f"arn:aws:iam::{ACCOUNT}:role/tag-compliance-bot"
# What a tagging bot or a developer who may tag is typically granted.
TAGGER = [{"Effect": "Allow", "Action": ["glue:TagResource", "glue:UntagResource", "tag:TagResources",
                                         "tag:UntagResources", "glue:CreateJob"], "Resource": "*"}]
TAG_ACTIONS = ["glue:TagResource", "glue:UntagResource", "tag:TagResources", "tag:UntagResources"]


def scp_allows(action: str, context: dict) -> bool:
    return allowed(action, JOB, context, TAGGER, FULL_AWS_ACCESS + SCP)


@pytest.mark.parametrize("action", TAG_ACTIONS)
def test_the_scp_keeps_the_approval_tag_to_the_approvers(action):
    assert not scp_allows(action, tag_context(TAG_BOT, [APPROVE_TAG]))
    assert not scp_allows(action, tag_context(TAG_BOT, ["owner", APPROVE_TAG]))  # among other keys
    assert scp_allows(action, tag_context(TAG_BOT, ["owner", "cost-center"]))  # other tags stay the bot's work
    assert scp_allows(action, tag_context(APPROVER, [APPROVE_TAG]))


@pytest.mark.parametrize("principal", [
    f"arn:aws:iam::{ACCOUNT}:role/team/change-approvers",  # a role of the same name under a path is another role
    f"arn:aws:iam::{ACCOUNT}:role/change-approvers-old",
    f"arn:aws:iam::{ACCOUNT}:user/change-approvers",
    f"arn:aws:iam::{ACCOUNT}:role/glue-inventory-remediate",  # the tool that applies may never approve
])
def test_only_the_named_approver_role_passes_the_scp(principal):
    assert not scp_allows("glue:TagResource", tag_context(principal, [APPROVE_TAG]))


def test_no_job_is_created_approved():
    tags = {APPROVE_TAG: "rp-0123456789ab", "owner": "data"}
    assert not scp_allows("glue:CreateJob", tag_context(TAG_BOT, list(tags), tags))
    assert scp_allows("glue:CreateJob", tag_context(TAG_BOT, ["owner"], {"owner": "data"}))
    assert scp_allows("glue:CreateJob", tag_context(TAG_BOT))
    assert scp_allows("glue:CreateJob", tag_context(APPROVER, list(tags), tags))


def test_both_statements_of_the_scp_name_the_same_approvers_as_iam_readme():
    readme = (ROOT / "iam" / "README.md").read_text(encoding="utf-8")
    patterns = {p for s in SCP for p in s["Condition"]["ArnNotLike"]["aws:PrincipalArn"]}
    assert patterns == {"arn:aws:iam::*:role/change-approvers"} and len(SCP) == 2
    assert "role/change-approvers" in readme and "glue-inventory-approvals-scp.json" in readme


@pytest.mark.parametrize("action", TAG_ACTIONS)
def test_the_boundary_denies_the_approval_tag_to_whoever_carries_it(action):
    assert not allowed(action, JOB, tag_context(TAG_BOT, [APPROVE_TAG]), TAGGER, BOUNDARY)
    assert allowed(action, JOB, tag_context(TAG_BOT, ["owner"]), TAGGER, BOUNDARY)
    # A boundary grants nothing by itself: what the identity policy lacks stays denied.
    assert not allowed("glue:DeleteJob", JOB, tag_context(TAG_BOT), TAGGER, BOUNDARY)


def test_the_boundary_cannot_be_removed_by_its_wearer():
    admin = [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]
    role = f"arn:aws:iam::{ACCOUNT}:role/tag-compliance-bot"
    for action in ("iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary"):
        assert not allowed(action, role, tag_context(TAG_BOT), admin, BOUNDARY)


def test_the_remediation_role_may_not_tag_and_may_read_cloudtrail():
    remediate = load_policy(REMEDIATE_POLICY_PATH)
    for action in [*TAG_ACTIONS, "glue:CreateJob"]:
        assert evaluate(remediate, action, JOB, tag_context(TAG_BOT, [APPROVE_TAG])) == IMPLICIT_DENY
    assert evaluate(remediate, "cloudtrail:LookupEvents", "*", {}) == ALLOW


# --- the evaluator itself --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("condition", "context", "holds"), [
    # A missing key: positive operators fail, negated ones hold, IfExists holds.
    ({"StringEquals": {"aws:PrincipalTag/team": "data"}}, {}, False),
    ({"StringNotEquals": {"aws:PrincipalTag/team": "data"}}, {}, True),
    ({"ArnNotLike": {"aws:PrincipalArn": APPROVER}}, {}, True),
    ({"StringEqualsIfExists": {"aws:PrincipalTag/team": "data"}}, {}, True),
    # Multivalued keys: ForAnyValue needs one match and fails on a missing key; ForAllValues holds on one.
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["b", "a"]}, True),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {}, False),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["a", "b"]}, False),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, {}, True),
    ({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["a"]}, False),
    # Values are case-sensitive, key names are not; IgnoreCase compares values without case.
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {"AWS:TAGKEYS": ["A"]}, False),
    ({"ForAnyValue:StringEqualsIgnoreCase": {"aws:tagkeys": ["a"]}}, {"aws:TagKeys": ["A"]}, True),
    # Values of one key: any; keys and operators: all.
    ({"StringEquals": {"k": ["x", "y"]}}, {"k": "y"}, True),
    ({"StringEquals": {"k": "x", "j": "y"}}, {"k": "x", "j": "z"}, False),
    ({"StringEquals": {"k": "x"}, "StringLike": {"j": "y*"}}, {"k": "x", "j": "yes"}, True),
    ({"Null": {"aws:RequestTag/x": "false"}}, {"aws:RequestTag/x": ""}, True),
    ({"Null": {"aws:RequestTag/x": "true"}}, {"aws:RequestTag/x": "v"}, False),
    # ArnLike compares part by part; `*` in the account part matches any account.
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/a"}}, {"aws:PrincipalArn": "arn:aws:iam::1:role/a"}, True),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/a"}}, {"aws:PrincipalArn": "arn:aws:sts::1:role/a"}, False),
])
def test_conditions_follow_the_iam_rules(condition, context, holds):
    assert conditions_hold(condition, context) is holds


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:TagKeys": "a"}},  # a multivalued key without a set operator
    {"StringEquals": {"aws:username": "${aws:username}"}},  # a policy variable
    {"NumericLessThan": {"k": "1"}},  # an operator not modelled
])
def test_what_the_evaluator_does_not_model_is_refused(condition):
    with pytest.raises(ValueError):
        conditions_hold(condition, {"aws:TagKeys": ["a"], "k": "1", "aws:username": "u"})


def test_explicit_deny_beats_allow_and_nothing_is_an_implicit_deny():
    statements = [{"Effect": "Allow", "Action": "glue:*", "Resource": "*"},
                  {"Effect": "Deny", "NotAction": "glue:Get*", "Resource": "arn:aws:glue:*:*:job/prod-*"}]
    assert evaluate(statements, "glue:GetJob", "arn:aws:glue:us-east-1:1:job/prod-a", {}) == ALLOW
    assert evaluate(statements, "GLUE:deletejob", "arn:aws:glue:us-east-1:1:job/prod-a", {}) == EXPLICIT_DENY
    assert evaluate(statements, "glue:DeleteJob", "arn:aws:glue:us-east-1:1:job/dev-a", {}) == ALLOW
    assert evaluate(statements, "s3:GetObject", "arn:aws:s3:::b/k", {}) == IMPLICIT_DENY
