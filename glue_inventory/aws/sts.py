"""STS: whose credentials these are, and credentials of a role to assume."""

from __future__ import annotations

import re
from functools import cache

import boto3

ROLE_SESSION_NAME = "glue-inventory"
# AssumeRole's default DurationSeconds (STS API reference); every role allows at least one hour.
SESSION_DURATION_S = 3600
# AssumeRole's smallest DurationSeconds (STS API reference).
MIN_SESSION_DURATION_S = 900
_ROLE_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:iam::(\d{12}):role/")


def account_of_role(role_arn: str | None) -> str | None:
    """The account id written in a role ARN (`arn:aws:iam::<account>:role/<name>`), without a call."""
    match = _ROLE_ARN.match(role_arn or "")
    return match.group(1) if match else None


def caller_account(sts) -> str:
    return sts.get_caller_identity()["Account"]


def assume_role(sts, role_arn: str, external_id: str | None, duration_s: int = SESSION_DURATION_S) -> dict:
    """The role's temporary credentials (AccessKeyId, SecretAccessKey, SessionToken, Expiration)."""
    params = {"RoleArn": role_arn, "RoleSessionName": ROLE_SESSION_NAME, "DurationSeconds": duration_s}
    if external_id:
        params["ExternalId"] = external_id
    return sts.assume_role(**params)["Credentials"]


@cache
def partition_of(region: str) -> str:
    """The ARN partition of a Region (`aws`, `aws-cn`, `aws-us-gov`), from botocore's endpoint data."""
    return boto3.Session().get_partition_for_region(region)
