"""The accounts of an AWS Organization as platforms: one per account × Region, or the reason one is left out.

Discovery reads the OU tree with the tool's own credentials (the management account or a delegated
administrator). An ACTIVE account that is not excluded becomes a platform reached by assuming
`organization.role_name` in it; the others are skipped, each with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from glue_inventory.analysis.code.secrets import redact_text
from glue_inventory.aws.clients import AssumedRoles, CallCounter, PlatformSession
from glue_inventory.aws.ec2 import enabled_regions
from glue_inventory.aws.errors import ACCESS_DENIED, AWS_ERRORS, describe_any, error_code
from glue_inventory.aws.organizations import OrgAccount, OrganizationTree, organization_tree
from glue_inventory.aws.sts import partition_of
from glue_inventory.config import DiscoveredPlatform, OrganizationConfig, PlatformConfig

SOURCE = "organization"
# Accounts whose enabled Regions are asked at once (one AssumeRole and one DescribeRegions each).
REGION_THREADS = 8
NOT_IN_USE = "AWSOrganizationsNotInUseException"
DISCOVERY_POLICY = "iam/glue-inventory-organization.json"


class OrganizationError(Exception):
    """Discovery cannot run as configured; the one-line message names the key or permission and the fix."""


@dataclass(frozen=True)
class SkippedAccount:
    """An account of the Organization that is not inventoried, and why."""

    account_id: str
    account_name: str
    ou_path: str
    reason: str


@dataclass(frozen=True)
class UnreachableAccount:
    """An account whose enabled Regions could not be read (its role could not be assumed, most often)."""

    platform: DiscoveredPlatform
    region: str
    error: str


@dataclass
class Discovery:
    """What discovery found: the platforms to list, the accounts it could not reach and those it skipped."""

    platforms: list[DiscoveredPlatform] = field(default_factory=list)
    unreachable: list[UnreachableAccount] = field(default_factory=list)
    skipped: list[SkippedAccount] = field(default_factory=list)


def member_platform(org: OrganizationConfig, account_id: str, regions: list[str], partition: str = "aws",
                    account_name: str | None = None, ou_path: str | None = None) -> DiscoveredPlatform:
    """The platform of an Organization account: its role assumed with the organization's external id.
    Named by the account id, which never changes (account names do)."""
    return DiscoveredPlatform(name=account_id, account_id=account_id, regions=regions,
                              role_arn=org.role_arn(account_id, partition), external_id=org.external_id,
                              max_requests_per_second=org.max_requests_per_second, account_name=account_name,
                              ou_path=ou_path)


def _tree(org_session: PlatformSession) -> OrganizationTree:
    try:
        return organization_tree(org_session.organizations)
    except AWS_ERRORS as exc:
        described = redact_text(describe_any(exc))
        code = error_code(exc) if isinstance(exc, ClientError) else ""
        if code in ACCESS_DENIED:
            raise OrganizationError(
                f"organization: the tool's credentials may not read the Organization ({described}) — run "
                f"glue-inventory as the management account or a delegated administrator with {DISCOVERY_POLICY}"
            ) from None
        if code == NOT_IN_USE:
            raise OrganizationError(
                f"organization: the tool's account is not in an AWS Organization ({described}) — run it with "
                "the management account's credentials, or list the accounts under platforms: instead") from None
        raise OrganizationError(f"organization: cannot list the Organization's accounts ({described})") from None


def _skip_reason(org: OrganizationConfig, tree: OrganizationTree, account: OrgAccount) -> str | None:
    if account.state != "ACTIVE":
        return f"{account.state}: only ACTIVE accounts are inventoried"
    if account.id in org.exclude_accounts:
        return "excluded by organization.exclude_accounts"
    if org.include_ous and not set(org.include_ous) & set(tree.path_ids(account.parent_id)):
        return "outside organization.include_ous"
    return None


def _partition(account: OrgAccount, home_region: str) -> str:
    # An account ARN is arn:<partition>:organizations::<management>:account/o-…/<id>.
    parts = account.arn.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else partition_of(home_region)


def discover(org: OrganizationConfig, org_session: PlatformSession, roles: AssumedRoles,
             counter: CallCounter, max_pool: int = 16) -> Discovery:
    """The Organization's accounts as platforms; raises OrganizationError when the tree cannot be read or
    an `include_ous` id is not in it."""
    tree = _tree(org_session)
    unknown = [ou for ou in org.include_ous if ou not in tree.units]
    if unknown:
        raise OrganizationError(
            f"organization.include_ous: {unknown[0]} is not an OU of this Organization — copy the id from the "
            f"AWS Organizations console ({len(tree.units)} OUs and roots found)")
    found = Discovery()
    home = org_session.region
    for account in sorted(tree.accounts, key=lambda a: a.id):
        ou_path = tree.path(account.parent_id)
        reason = _skip_reason(org, tree, account)
        if reason:
            found.skipped.append(SkippedAccount(account.id, account.name, ou_path, reason))
            continue
        regions = [home] if org.regions == "enabled" else list(org.regions)
        found.platforms.append(member_platform(org, account.id, regions, _partition(account, home),
                                               account.name, ou_path))
    if org.regions == "enabled":
        _with_enabled_regions(found, home, roles, counter, max_pool)
    return found


def _with_enabled_regions(found: Discovery, home: str, roles: AssumedRoles, counter: CallCounter,
                          max_pool: int) -> None:
    """Each platform's Regions become those its account has enabled (asked in the account, through its role)."""

    def regions_of(platform: DiscoveredPlatform) -> list[str] | str:
        session = PlatformSession(platform, home, max_pool=max_pool, counter=counter, roles=roles)
        try:
            return enabled_regions(session.ec2)
        except AWS_ERRORS as exc:
            return redact_text(describe_any(exc))

    with ThreadPoolExecutor(max_workers=min(REGION_THREADS, len(found.platforms)) or 1) as pool:
        answers = list(pool.map(regions_of, found.platforms))
    reachable = []
    for platform, answer in zip(found.platforms, answers, strict=True):
        if isinstance(answer, str):
            found.unreachable.append(UnreachableAccount(platform, home, f"{answer} (asking its enabled Regions)"))
        else:
            reachable.append(platform.model_copy(update={"regions": answer}))
    found.platforms = reachable


def organization_session(home_region: str, counter: CallCounter, roles: AssumedRoles) -> PlatformSession:
    """The tool's own credentials, for the Organizations calls (a global service: any Region signs them)."""
    return PlatformSession(PlatformConfig(name=SOURCE, regions=[home_region]), home_region, counter=counter,
                           roles=roles)


def member_sessions(org: OrganizationConfig, counter: CallCounter, roles: AssumedRoles,
                    max_pool: int = 16) -> Callable[[str, str], PlatformSession]:
    """The session of any account of the Organization in a Region (for `SessionMap`): its role, assumed on
    first use."""

    def session(account_id: str, region: str) -> PlatformSession:
        platform = member_platform(org, account_id, [region], partition_of(region))
        return PlatformSession(platform, region, max_pool=max_pool, counter=counter, roles=roles)

    return session
