"""A simulated AWS Organization: a management account, nested OUs and member accounts with Glue jobs.

The default estate has the six member accounts of issue 13's acceptance scenario: two healthy ones in
nested OUs (one with jobs in two Regions), one whose inventory role cannot be assumed, one suspended, one
to exclude by id and one outside the OUs to include. Every member account holds jobs, so a job of the
wrong account showing up anywhere is a bug. The OU and root ids are fixed, so a config can name them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from moto.organizations import utils as org_utils
from moto.organizations.models import FakeAccount, organizations_backends

from glue_inventory.simulate.catalog import DEFAULT_ACCOUNT_ID, DEFAULT_REGION
from glue_inventory.simulate.fleet import Fleet, build_fleet
from glue_inventory.simulate.middleware import Fault

ROLE_NAME = "glue-inventory-readonly"
EXTERNAL_ID = "glue-inventory"
ROOT_ID = "r-gi00"
PARTITION = "aws"


@dataclass(frozen=True)
class SimAccount:
    """A member account: where it sits (OU path below the root, "" for the root itself) and what is odd."""

    account_id: str
    name: str
    ou: str
    share: int  # its part of the estate's jobs, in sixteenths
    status: str = "ACTIVE"
    role_denied: bool = False
    one_region: bool = False  # only us-east-1 jobs


# The acceptance scenario of issue 13 (healthy, denied, suspended, excluded, outside the included OUs).
MEMBERS = (
    SimAccount("111111111111", "payments-prod", "Workloads/Prod", share=8),
    SimAccount("222222222222", "analytics-dev", "Workloads/Dev/Analytics", share=4, one_region=True),
    SimAccount("333333333333", "ml-training", "Workloads/Dev", share=1, role_denied=True),
    SimAccount("444444444444", "legacy-reporting", "Workloads/Prod", share=1, status="SUSPENDED"),
    SimAccount("555555555555", "security-audit", "Workloads/Prod", share=1),
    SimAccount("666666666666", "sandbox-experiments", "Sandbox", share=1),
)
INCLUDED_OU = "Workloads"
EXCLUDED_ACCOUNT = "555555555555"


@dataclass
class SimOrganization:
    management_account_id: str
    accounts: tuple[SimAccount, ...]
    role_name: str = ROLE_NAME
    external_id: str = EXTERNAL_ID
    ou_ids: dict[str, str] = field(default_factory=dict)


    @property
    def member_account_ids(self) -> list[str]:
        return [account.account_id for account in self.accounts]

    def __post_init__(self) -> None:
        paths = sorted({prefix for a in self.accounts for prefix in _prefixes(a.ou)})
        self.ou_ids = {path: f"ou-{ROOT_ID[2:]}-{index:08d}" for index, path in enumerate(paths, start=1)}

    def ou_id(self, path: str) -> str:
        return ROOT_ID if not path else self.ou_ids[path]

    def account(self, account_id: str) -> SimAccount:
        return next(a for a in self.accounts if a.account_id == account_id)

    def role_arn(self, account_id: str) -> str:
        return f"arn:{PARTITION}:iam::{account_id}:role/{self.role_name}"

    def inventoried(self, include: str = INCLUDED_OU, exclude: str = EXCLUDED_ACCOUNT) -> list[SimAccount]:
        """The accounts an inventory configured like `config_yaml` reaches: ACTIVE, inside `include`, not
        excluded and not denied."""
        return [a for a in self.accounts if a.status == "ACTIVE" and not a.role_denied and a.account_id != exclude
                and (a.ou == include or a.ou.startswith(include + "/"))]

    def config_yaml(self, regions: list[str] | str, include: str = INCLUDED_OU,
                    exclude: str = EXCLUDED_ACCOUNT) -> str:
        """The `organization:` section of a config that inventories this Organization."""
        listed = regions if isinstance(regions, str) else f"[{', '.join(regions)}]"
        return (f"organization:\n  role_name: {self.role_name}\n  external_id: {self.external_id}\n"
                f"  regions: {listed}\n  include_ous: [{self.ou_id(include)}]\n"
                f'  exclude_accounts: ["{exclude}"]\n')

    def faults(self) -> list[Fault]:
        """AssumeRole answered AccessDenied for the accounts whose role cannot be assumed, as STS answers."""
        return [Fault("AssumeRole", code="AccessDenied", status=403, body_contains=a.account_id,
                      message=f"User: arn:aws:iam::{self.management_account_id}:user/glue-inventory is not "
                              f"authorized to perform: sts:AssumeRole on resource: {self.role_arn(a.account_id)}")
                for a in self.accounts if a.role_denied]


def _prefixes(path: str) -> list[str]:
    parts = path.split("/") if path else []
    return ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]


def build_organization(jobs: int, seed: int, now: datetime, management_account_id: str = DEFAULT_ACCOUNT_ID,
                       members: tuple[SimAccount, ...] = MEMBERS) -> Fleet:
    """A fleet of about `jobs` jobs spread over the member accounts (each account its own seed); the
    same arguments always give the same estate."""
    if jobs < 0:
        raise ValueError(f"jobs must be 0 or more, got {jobs}")
    org = SimOrganization(management_account_id, members)
    total_share = sum(a.share for a in members)
    all_jobs = []
    for index, account in enumerate(members):
        count = max(1 if jobs else 0, round(jobs * account.share / total_share))
        fleet = build_fleet(count, seed * 100 + index, now, account_id=account.account_id)
        all_jobs += [job for job in fleet.jobs if not account.one_region or job.region == DEFAULT_REGION]
    return Fleet(seed=seed, now=now, account_id=management_account_id, jobs=all_jobs, organization=org)


def seed_organization(org: SimOrganization) -> None:
    """The Organization in moto's backend of the management account, with the fixed root, OU and account ids."""
    for account in (org.management_account_id, *(a.account_id for a in org.accounts)):
        organizations_backends.master_accounts.pop(account, None)
    backend = organizations_backends[org.management_account_id][PARTITION]
    backend.reset()
    backend.create_organization(region=DEFAULT_REGION, FeatureSet="ALL")
    root = backend.ou[0]
    backend.org.root_id = root.id = ROOT_ID
    backend.accounts[0].parent_id = ROOT_ID  # the management account
    for path, ou_id in sorted(org.ou_ids.items()):
        parent, _, name = path.rpartition("/")
        backend.create_organizational_unit(Name=name, ParentId=org.ou_id(parent))
        backend.ou[-1].id = ou_id
    for member in org.accounts:
        slug = member.name.replace(" ", "-")
        account = FakeAccount(backend.org, AccountName=member.name, Email=f"{slug}@example.com")
        account.id = member.account_id
        account.parent_id = org.ou_id(member.ou)
        backend.accounts.append(account)
        for policy_id in (org_utils.DEFAULT_SCP_POLICY_ID, org_utils.DEFAULT_RCP_POLICY_ID):
            backend.attach_policy(PolicyId=policy_id, TargetId=account.id)
        organizations_backends.master_accounts[account.id] = (org.management_account_id, PARTITION)
        if member.status == "SUSPENDED":
            account.close()
