"""boto3 sessions and clients per platform: role assumption, endpoint override, adaptive retries."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

import boto3
import botocore.session
from botocore.config import Config
from botocore.loaders import Loader
from botocore.utils import parse_timestamp

from glue_inventory.aws import sts
from glue_inventory.config import PlatformConfig

# botocore's adaptive mode rate-limits the client itself after ThrottlingException;
# 10 attempts ride out a throttling storm without failing the run.
RETRY_ATTEMPTS = 10


def utc_timestamp(value: object) -> datetime:
    """botocore's response timestamp parser, with epoch numbers (all Glue sends) read straight into UTC.

    botocore's default builds them in the local zone through dateutil's tzlocal: about a fifth of the
    CPU of a full inventory, for 100,000 runs with three timestamps each. Text is left to botocore.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return parse_timestamp(value).astimezone(UTC)


@cache
def _shared_loader() -> Loader:
    """One loader (it caches the parsed service models) for every session of the process: a session
    of its own per platform and Dagster run would parse Glue's model again each time."""
    return botocore.session.get_session().get_component("data_loader")  # honours AWS_DATA_PATH


def new_session(**kwargs) -> boto3.Session:
    """A boto3 session whose clients parse timestamps with `utc_timestamp` and share the model loader."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _shared_loader())
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=utc_timestamp)
    return boto3.Session(botocore_session=core, **kwargs)


class CallCounter:
    """Counts API calls and retries made by every client it is attached to (botocore events)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()

    def attach(self, client) -> None:
        events = client.meta.events
        events.register("before-call.*.*", self._on_call)
        events.register("needs-retry.*.*", self._on_needs_retry)

    def _on_call(self, model, **_kwargs) -> None:
        with self._lock:
            self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def _on_needs_retry(self, response, attempts, operation, **_kwargs) -> None:
        if response is None:
            return
        http, parsed = response
        code = (parsed or {}).get("Error", {}).get("Code")
        if code or (http is not None and http.status_code >= 500):
            with self._lock:
                self.retries[f"{operation.service_model.service_name}:{operation.name}"] += 1

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def total_retries(self) -> int:
        return sum(self.retries.values())

    def snapshot(self) -> dict:
        with self._lock:
            return {"calls": dict(self.calls), "retries": dict(self.retries)}


class _ServiceClient:
    """`session.glue` and the like: the session's client of one service, for aws/ functions to use."""

    def __init__(self, service: str) -> None:
        self.service = service

    def __get__(self, session: PlatformSession, owner: type) -> object:
        return session.client(self.service)


@dataclass
class PlatformSession:
    """One platform (account) in one region, with the clients the pipeline needs."""

    platform: PlatformConfig
    region: str
    max_pool: int = 16
    counter: CallCounter = field(default_factory=CallCounter)
    _session: boto3.Session | None = None
    _clients: dict[str, object] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    account_id: str | None = None

    glue = _ServiceClient("glue")
    tagging = _ServiceClient("resourcegroupstaggingapi")
    s3 = _ServiceClient("s3")
    cloudwatch = _ServiceClient("cloudwatch")
    cost_explorer = _ServiceClient("ce")

    @property
    def name(self) -> str:
        return f"{self.platform.name}/{self.region}"

    def session(self) -> boto3.Session:
        if self._session is None:
            base = new_session(profile_name=self.platform.profile, region_name=self.region)
            if self.platform.role_arn:
                base = _assume_role(base, self.platform, self.region, self._config())
            self._session = base
        return self._session

    def _config(self) -> Config:
        return Config(
            retries={"mode": "adaptive", "max_attempts": RETRY_ATTEMPTS},
            max_pool_connections=self.max_pool,
            connect_timeout=10,
            read_timeout=60,
        )

    def client(self, service: str):
        with self._lock:
            if service not in self._clients:
                kwargs = {"region_name": self.region, "config": self._config()}
                if self.platform.endpoint_url:
                    kwargs["endpoint_url"] = self.platform.endpoint_url
                client = self.session().client(service, **kwargs)
                self.counter.attach(client)
                self._clients[service] = client
            return self._clients[service]

    def resolve_account_id(self) -> str:
        """The configured account, else the one in the role ARN, else the credentials' own (one STS call)."""
        if self.account_id is None:
            self.account_id = (self.platform.account_id or sts.account_of_role(self.platform.role_arn)
                               or sts.caller_account(self.client("sts")))
        return self.account_id

def _assume_role(base: boto3.Session, platform: PlatformConfig, region: str, config: Config) -> boto3.Session:
    kwargs = {"endpoint_url": platform.endpoint_url} if platform.endpoint_url else {}
    creds = sts.assume_role(base.client("sts", region_name=region, config=config, **kwargs), platform.role_arn,
                            platform.external_id)
    return new_session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def platform_sessions(platforms: list[PlatformConfig], max_pool: int = 16,
                      counter: CallCounter | None = None) -> list[PlatformSession]:
    counter = counter or CallCounter()
    return [PlatformSession(p, region, max_pool=max_pool, counter=counter)
            for p in platforms for region in p.regions]
