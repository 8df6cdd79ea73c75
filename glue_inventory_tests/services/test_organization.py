"""services.organization, called directly on the simulated Organization (two healthy member accounts, one whose
role cannot be assumed, one suspended, one excluded, one outside the included OUs): discovery finds the
accounts to inventory and says why each other one is left out, and the listing stores only theirs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import yaml

from glue_inventory.aws.clients import AssumedRoles, CallCounter, platform_sessions
from glue_inventory.config import OrganizationConfig
from glue_inventory.services.inventory import list_inventory, store_snapshot
from glue_inventory.services.organization import OrganizationError, discover, organization_session
from glue_inventory.simulate import Simulator, build_organization, start_simulator
from glue_inventory.simulate.organization import EXCLUDED_ACCOUNT
from glue_inventory.simulate.truth import compute_truth
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.jobs import read_jobs
from glue_inventory_tests.services.conftest import partition_key
from glue_inventory_tests.sim_fixtures import point_at

MANAGEMENT = "723000000051"
HOME = "us-east-1"


@pytest.fixture(scope="module")
def organization() -> Iterator[Simulator]:
    fleet = build_organization(24, 5, datetime.now(UTC), management_account_id=MANAGEMENT)
    with start_simulator(fleet) as sim:
        yield sim


def _config(sim: Simulator, regions: list[str] | str, **changes) -> OrganizationConfig:
    section = yaml.safe_load(sim.fleet.organization.config_yaml(regions))["organization"]
    return OrganizationConfig(**section | changes)


def _discover(org: OrganizationConfig):
    counter, roles = CallCounter(), AssumedRoles()
    return discover(org, organization_session(HOME, counter, roles), roles, counter), counter, roles


def test_discovery_finds_the_accounts_to_inventory_and_says_why_the_others_are_left_out(organization, monkeypatch):
    point_at(organization, monkeypatch)
    org = organization.fleet.organization
    found, _, _ = _discover(_config(organization, "enabled"))
    reachable = {a.account_id for a in org.inventoried()}
    assert {p.account_id for p in found.platforms} == reachable
    assert all(p.role_arn == org.role_arn(p.account_id) and p.account_name == org.account(p.account_id).name
               for p in found.platforms)
    denied = [a.account_id for a in org.accounts if a.role_denied]
    assert [u.platform.account_id for u in found.unreachable] == denied
    assert all("AccessDenied" in u.error for u in found.unreachable)
    # The management account sits at the root, outside the included OU, like the sandbox account.
    skipped = {s.account_id: (s.reason, s.ou_path) for s in found.skipped}
    assert set(skipped) == {a.account_id for a in org.accounts} - reachable - set(denied) | {MANAGEMENT}
    assert skipped[MANAGEMENT] == ("outside organization.include_ous", "Root")
    for account in org.accounts:
        if account.account_id in skipped:
            reason = ("excluded by organization.exclude_accounts" if account.account_id == EXCLUDED_ACCOUNT
                      else f"{account.status}: only ACTIVE accounts are inventoried" if account.status != "ACTIVE"
                      else "outside organization.include_ous")
            assert skipped[account.account_id] == (reason, f"Root/{account.ou}"), account


def test_the_listing_stores_every_reachable_accounts_jobs_and_no_other(organization, monkeypatch, postgres_url):
    point_at(organization, monkeypatch)
    org = organization.fleet.organization
    found, counter, roles = _discover(_config(organization, ["us-east-1", "eu-west-1"]))
    snapshot = list_inventory(platform_sessions(found.platforms, counter=counter, roles=roles), found)
    engine = engine_for(postgres_url)
    store_snapshot(engine, snapshot)
    failed = {listing.account_id for listing in snapshot.listings if listing.error}
    assert failed == {a.account_id for a in org.accounts if a.role_denied}
    reachable = {a.account_id for a in org.inventoried()}
    truth = compute_truth(organization.fleet, datetime.now(UTC))
    assert set(read_jobs(engine)) == {partition_key(key) for key in truth if key.split("/")[0] in reachable}
    assert snapshot.whole_estate and {s.account_id for s in snapshot.skipped} == {s.account_id for s in found.skipped}


def test_an_include_ou_the_organization_does_not_have_is_refused_in_one_line(organization, monkeypatch):
    point_at(organization, monkeypatch)
    with pytest.raises(OrganizationError, match=r"organization.include_ous: ou-zzzz-99999999 is not an OU"):
        _discover(_config(organization, "enabled", include_ous=["ou-zzzz-99999999"]))
