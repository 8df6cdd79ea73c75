"""Assumed-role credentials that renew themselves: a run longer than the role's session keeps working."""

from __future__ import annotations

from botocore.credentials import CredentialProvider, CredentialResolver, RefreshableCredentials

from glue_inventory.aws import sts

# botocore renews refreshable credentials 15 minutes (advisory) and 10 minutes (mandatory) before they
# expire (botocore/credentials.py); a shorter session renews at a third and a sixth of its length instead,
# or every call would renew it.
ADVISORY_REFRESH_S = 15 * 60
MANDATORY_REFRESH_S = 10 * 60


def role_credentials(sts_client, role_arn: str, external_id: str | None,
                     duration_s: int = sts.SESSION_DURATION_S) -> RefreshableCredentials:
    """The role's credentials, assumed now (an AccessDenied is raised here) and again before they expire."""

    def assume() -> dict[str, str]:
        creds = sts.assume_role(sts_client, role_arn, external_id, duration_s)
        return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"], "expiry_time": creds["Expiration"].isoformat()}

    return RefreshableCredentials.create_from_metadata(
        assume(), assume, "assume-role", advisory_timeout=min(ADVISORY_REFRESH_S, duration_s / 3),
        mandatory_timeout=min(MANDATORY_REFRESH_S, duration_s / 6))


class _Given(CredentialProvider):
    METHOD = "glue-inventory-assume-role"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials


def credential_resolver(credentials: RefreshableCredentials) -> CredentialResolver:
    """A botocore session's `credential_provider` component that always answers `credentials`."""
    return CredentialResolver([_Given(credentials)])
