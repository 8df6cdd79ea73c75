"""Which account a request acts in (as moto decides, by its access key) and whether its temporary
credentials have expired: moto hands out an assumed role's expiry but never enforces it; AWS does."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from typing import Any

from moto.core.utils import utcnow
from moto.iam.models import get_account_id_from
from moto.sts.models import sts_backends

_ACCESS_KEY = re.compile(r"Credential=([A-Z0-9]+)/")
# STS hands out temporary access keys starting with ASIA (IAM user guide, "Unique identifiers").
TEMPORARY_PREFIX = "ASIA"


def access_key(environ: dict[str, Any]) -> str | None:
    match = _ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else None


class RequestAccounts:
    """Access key → account and → expiry, remembered (a key never changes account)."""

    def __init__(self, default_account: str) -> None:
        self.default_account = default_account
        self._accounts: dict[str, str] = {}
        self._expiry: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def account(self, environ: dict[str, Any]) -> str:
        key = access_key(environ)
        if key is None:
            return self.default_account
        with self._lock:
            if key not in self._accounts:
                self._accounts[key] = get_account_id_from(key)
            return self._accounts[key]

    def expired(self, environ: dict[str, Any]) -> bool:
        """True for temporary credentials of an assumed role past their Expiration."""
        key = access_key(environ)
        if key is None or not key.startswith(TEMPORARY_PREFIX):
            return False
        with self._lock:
            expiry = self._expiry.get(key)
        if expiry is None:
            expiry = self._find_expiry(key, self.account(environ))
            if expiry is None:
                return False
            with self._lock:
                self._expiry[key] = expiry
        return utcnow() >= expiry

    @staticmethod
    def _find_expiry(key: str, account: str) -> datetime | None:
        role = sts_backends[account]["aws"].get_assumed_role_from_access_key(key)
        return role.expiration if role is not None else None

