"""The session of each (account, Region), and the reason a platform cannot be reached.

Every step that calls AWS per job goes through one `SessionMap`: a platform whose account cannot
be resolved or whose role cannot be assumed fails the jobs it would serve, with the AWS error as
their result, and never the jobs of the other platforms.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from glue_inventory.aws.clients import PlatformSession
from glue_inventory.aws.errors import AWS_ERRORS, describe_any


class PlatformUnreachable(Exception):
    """No usable session for a job's account and Region; the message says which platform failed and why."""


class SessionMap:
    """Sessions by (account, Region): the first configured platform of each wins. A Region's accounts are
    resolved when a job of that Region first asks (an STS call for a platform without account or role).
    With an Organization, `member(account, Region)` makes the session of an account no platform configures
    (its role in that account): every job the inventory holds belongs to an account it reached."""

    def __init__(self, sessions: Iterable[PlatformSession],
                 member: Callable[[str, str], PlatformSession] | None = None):
        self._all = list(sessions)
        self._member = member
        self._resolved: set[str] = set()
        self._sessions: dict[tuple[str, str], PlatformSession] = {}
        self._failed: dict[str, str] = {}
        self._lock = threading.Lock()

    def _resolve(self, region: str) -> None:
        with self._lock:
            if region in self._resolved:
                return
            for session in self._all:
                if session.region != region:
                    continue
                try:
                    account = session.resolve_account_id()
                except AWS_ERRORS as exc:
                    self._failed[session.name] = f"platform {session.name}: {describe_any(exc)}"
                    continue
                self._sessions.setdefault((account, region), session)
            self._resolved.add(region)

    def accounts(self) -> dict[tuple[str, str], PlatformSession]:
        """Every (account, Region) reachable by a configured platform, with its session."""
        for region in {session.region for session in self._all}:
            self._resolve(region)
        return dict(self._sessions)

    def session(self, account_id: str, region: str) -> PlatformSession:
        """The session for the account and Region, once it is known to have credentials."""
        self._resolve(region)
        with self._lock:
            if (account_id, region) not in self._sessions and self._member is not None:
                self._sessions[(account_id, region)] = self._member(account_id, region)
        session = self._sessions.get((account_id, region))
        with self._lock:
            unresolved = [message for name, message in self._failed.items() if name.endswith(f"/{region}")]
            failed = self._failed.get(session.name) if session else None
        if session is None:
            raise PlatformUnreachable(f"no configured platform reaches account {account_id} in {region}"
                                      + (f" ({'; '.join(unresolved)})" if unresolved else ""))
        if failed:
            raise PlatformUnreachable(failed)
        try:
            session.session()
        except AWS_ERRORS as exc:
            message = f"platform {session.name}: {describe_any(exc)}"
            with self._lock:
                self._failed[session.name] = message
            raise PlatformUnreachable(message) from None
        return session

    @property
    def failures(self) -> dict[str, str]:
        """Platform name → why it cannot be reached, for the platforms found failing so far."""
        with self._lock:
            return dict(self._failed)
