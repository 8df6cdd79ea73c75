"""Assumed-role credentials renew themselves: a run longer than the role's session keeps working.

The simulator refuses temporary credentials past their Expiration, as AWS does (moto alone never does),
and accepts a session of a few seconds (AWS's minimum is 900 s), so the test is short.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from glue_inventory.aws.clients import AssumedRoles, PlatformSession
from glue_inventory.aws.sts import assume_role
from glue_inventory.config import PlatformConfig
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory_tests.sim_fixtures import point_at

ACCOUNT = "620987654321"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/glue-inventory-readonly"
SESSION_S = 3


@pytest.fixture
def sim(monkeypatch):
    with start_simulator(build_fleet(3, 5, datetime.now(UTC), account_id=ACCOUNT)) as sim:
        point_at(sim, monkeypatch)
        yield sim


def test_one_off_credentials_expire_in_the_simulator(sim):
    # AWS refuses sessions under 900 s (botocore checks it first); the simulator takes any length.
    sts = boto3.client("sts", endpoint_url=sim.endpoint_url, region_name="us-east-1",
                       config=Config(parameter_validation=False))
    creds = assume_role(sts, ROLE_ARN, None, SESSION_S)
    glue = boto3.client("glue", endpoint_url=sim.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"], config=Config(retries={"max_attempts": 1}))
    assert glue.get_jobs()["Jobs"]
    time.sleep(SESSION_S + 0.5)
    with pytest.raises(ClientError, match="ExpiredTokenException"):
        glue.get_jobs()


def test_platform_credentials_renew_before_they_expire(sim):
    platform = PlatformConfig(name="short", regions=["us-east-1"], role_arn=ROLE_ARN, external_id="glue-inventory",
                              endpoint_url=sim.endpoint_url)
    session = PlatformSession(platform, "us-east-1", roles=AssumedRoles(duration_s=SESSION_S))
    assumed = sim.call_counts["AssumeRole"]
    calls, ends = 0, time.monotonic() + 3 * SESSION_S
    while time.monotonic() < ends:
        assert session.glue.get_jobs()["Jobs"]
        calls += 1
        time.sleep(0.1)
    renewals = sim.call_counts["AssumeRole"] - assumed
    # One AssumeRole per renewal (about every SESSION_S × 2/3 s), not one per call.
    assert 3 <= renewals < calls / 2, (renewals, calls)


def test_regions_of_an_account_share_its_role_credentials(sim):
    roles = AssumedRoles()
    platform = PlatformConfig(name="two", regions=["us-east-1", "eu-west-1"], role_arn=ROLE_ARN,
                              endpoint_url=sim.endpoint_url)
    assumed = sim.call_counts["AssumeRole"]
    for region in platform.regions:
        PlatformSession(platform, region, roles=roles).glue.get_jobs()
    assert sim.call_counts["AssumeRole"] - assumed == 1


def test_the_accounts_of_one_profile_assume_their_roles_through_one_sts_client(sim):
    """One STS client per profile and Region (not one per account); each account still gets its own role's
    credentials, and renews them through that client."""
    roles = AssumedRoles(duration_s=SESSION_S)
    accounts = [ACCOUNT, "620987654322", "620987654323"]
    for account in accounts:
        platform = PlatformConfig(name=account, regions=["us-east-1"], role_arn=f"arn:aws:iam::{account}:role/r",
                                  endpoint_url=sim.endpoint_url)
        session = PlatformSession(platform, "us-east-1", roles=roles)
        assert session.client("sts").get_caller_identity()["Account"] == account
    assert len(roles._sts) == 1  # noqa: SLF001 - how many STS clients assumed the roles
    assumed = sim.call_counts["AssumeRole"]
    time.sleep(SESSION_S)  # every account's credentials are renewed through the shared client
    for account in accounts:
        platform = PlatformConfig(name=account, regions=["us-east-1"], role_arn=f"arn:aws:iam::{account}:role/r",
                                  endpoint_url=sim.endpoint_url)
        session = PlatformSession(platform, "us-east-1", roles=roles)
        assert session.client("sts").get_caller_identity()["Account"] == account
    assert sim.call_counts["AssumeRole"] - assumed == len(accounts)
