"""boto3 sessions and clients per platform: role assumption, endpoint override, adaptive retries."""

from __future__ import annotations

import copy
import platform
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.hooks import HierarchicalEmitter
from botocore.loaders import Loader
from botocore.utils import parse_timestamp

from glue_inventory.aws import sts
from glue_inventory.aws.credentials import credential_resolver, role_credentials
from glue_inventory.aws.errors import AWS_ERRORS
from glue_inventory.aws.pacing import pace, process_pacing
from glue_inventory.aws.responses import PlannedParserFactory
from glue_inventory.config import PlatformConfig
from glue_inventory.telemetry import active as tracing_active
from glue_inventory.telemetry import annotate

# 10 attempts ride out a throttling storm without failing the run. A paced client (aws/pacing.py: the rate is
# learned per account, Region and service) retries in botocore's standard mode: its adaptive mode would learn
# the rate again in every client, after a burst of throttles. The unpaced ones keep it.
RETRY_ATTEMPTS = 10
# Services whose limits are not the account's and Region's: STS and Organizations are called from the
# tool's own account.
UNPACED = frozenset({"sts", "organizations"})


# The tool's name in the User-Agent of every request it makes.
TOOL = "glue-inventory"


@cache
def tool_user_agent() -> str:
    """The User-Agent of the tool's requests, in botocore's legacy format (botocore appends `Botocore/<version>`):
    the tool and its version first, so CloudTrail's `userAgent` tells the inventory's calls from others. A fixed
    string: botocore's own is built again twice for every request (for its feature codes), about 3 % of a
    refresh's client CPU in `bench/organization.py`."""
    try:
        tool = version("glue_inventory")
    except PackageNotFoundError:  # run from a source tree that is not installed
        tool = "unknown"
    return (f"{TOOL}/{tool} Boto3/{boto3.__version__} Python/{platform.python_version()} "
            f"{platform.system()}/{platform.release()}")


def utc_timestamp(value: object) -> datetime:
    """botocore's response timestamp parser, with epoch numbers (all Glue sends) read straight into UTC.

    botocore's default builds them in the local zone through dateutil's tzlocal: about a fifth of the
    CPU of a full inventory, for 100,000 runs with three timestamps each. Text is left to botocore.
    """
    if type(value) is float or type(value) is int:  # what Glue sends, at once
        return datetime.fromtimestamp(value, UTC)
    return parse_timestamp(value).astimezone(UTC)


@cache
def _shared_loader() -> Loader:
    """One loader (it caches the parsed service models) for every session of the process: a session
    of its own per platform and Dagster run would parse Glue's model again each time."""
    return botocore.session.get_session().get_component("data_loader")  # honours AWS_DATA_PATH


@cache
def _builtin_handlers() -> HierarchicalEmitter:
    """botocore's built-in event handlers, registered once per process. botocore registers them in every
    new session, inspecting each handler's signature: 5 of the 6 ms a session took, for a session per account
    and Region in every command. A new session gets a copy of these (new handlers go to the copy only)."""
    emitter = HierarchicalEmitter()
    botocore.session.Session(event_hooks=emitter)
    return emitter


def new_session(credentials: RefreshableCredentials | None = None, **kwargs) -> boto3.Session:
    """A boto3 session whose clients parse timestamps with `utc_timestamp` and JSON answers with a planned
    walk (`responses.PlannedJSONParser`), and share the model loader; with `credentials`, its clients sign
    with them (and botocore renews them before they expire)."""
    core = botocore.session.Session(event_hooks=copy.copy(_builtin_handlers()), include_builtin_handlers=False)
    core.register_component("data_loader", _shared_loader())
    core.register_component("response_parser_factory", PlannedParserFactory())
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=utc_timestamp)
    if credentials is not None:
        core.register_component("credential_provider", credential_resolver(credentials))
    return boto3.Session(botocore_session=core, **kwargs)


class CallCounter:
    """Counts API calls and retries made by every client it is attached to (botocore events), and the metrics
    GetMetricData asks for (CloudWatch bills them, not the calls)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()
        self.metrics_requested = 0

    def attach(self, client) -> None:
        events = client.meta.events
        events.register("before-call.*.*", self._on_call)
        events.register("needs-retry.*.*", self._on_needs_retry)
        events.register("provide-client-params.cloudwatch.GetMetricData", self._on_get_metric_data)

    def _on_get_metric_data(self, params, **_kwargs) -> None:
        with self._lock:
            self.metrics_requested += len(params.get("MetricDataQueries") or ())

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

    def usage(self) -> Counter[str]:
        """Calls by `service:Operation`, and `cloudwatch:GetMetricData.metrics` (what `analysis.tool_cost`
        prices)."""
        with self._lock:
            usage = Counter(self.calls)
            if self.metrics_requested:
                usage["cloudwatch:GetMetricData.metrics"] = self.metrics_requested
            return usage


def _trace_account(client, account_id: str) -> None:
    """botocore's span of each call (current while the call's events fire) names the account called."""

    def on_call(**_kwargs) -> None:
        annotate({"cloud.account.id": account_id})

    client.meta.events.register("before-call.*.*", on_call)


class _ServiceClient:
    """`session.glue` and the like: the session's client of one service, for aws/ functions to use."""

    def __init__(self, service: str) -> None:
        self.service = service

    def __get__(self, session: PlatformSession, owner: type) -> object:
        return session.client(self.service)


class AssumedRoles:
    """Role credentials by (profile, role, external id, endpoint), shared by every Region of an account: one
    AssumeRole per account, renewed by botocore before it expires. A role that could not be assumed is asked
    again next time. Each platform gets a boto3 session of its own (sessions are not thread-safe; credentials are).
    The roles of one profile are assumed through one STS client (per Region and endpoint; clients are thread-safe):
    a client took about 3 ms of CPU to build, for each account of an Organization in every command.
    """

    def __init__(self, duration_s: int = sts.SESSION_DURATION_S) -> None:
        self.duration_s = duration_s
        self._credentials: dict[tuple, RefreshableCredentials] = {}
        self._sts: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def session(self, platform: PlatformConfig, region: str, config: Config) -> boto3.Session:
        if not platform.role_arn:
            return new_session(profile_name=platform.profile, region_name=region)
        key = (platform.profile, platform.role_arn, platform.external_id, platform.endpoint_url)
        with self._lock:
            if key not in self._credentials:
                self._credentials[key] = role_credentials(self._sts_client(platform, region, config),
                                                          platform.role_arn, platform.external_id, self.duration_s)
            credentials = self._credentials[key]
        return new_session(credentials=credentials, region_name=region)

    def _sts_client(self, platform: PlatformConfig, region: str, config: Config):
        """The profile's STS client in `region` (the first Region asked of an account assumes its role)."""
        key = (platform.profile, region, platform.endpoint_url)
        if key not in self._sts:
            base = new_session(profile_name=platform.profile, region_name=region)
            endpoint = {"endpoint_url": platform.endpoint_url} if platform.endpoint_url else {}
            if self.duration_s < sts.MIN_SESSION_DURATION_S:
                # Only a simulator accepts it (tests of renewal); botocore would refuse it before sending.
                config = config.merge(Config(parameter_validation=False))
            self._sts[key] = base.client("sts", region_name=region, config=config, **endpoint)
        return self._sts[key]


@dataclass
class PlatformSession:
    """One platform (account) in one region, with the clients the pipeline needs."""

    platform: PlatformConfig
    region: str
    max_pool: int = 16
    counter: CallCounter = field(default_factory=CallCounter)
    roles: AssumedRoles = field(default_factory=AssumedRoles)
    _session: boto3.Session | None = None
    _clients: dict[str, object] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    account_id: str | None = None

    glue = _ServiceClient("glue")
    tagging = _ServiceClient("resourcegroupstaggingapi")
    s3 = _ServiceClient("s3")
    cloudwatch = _ServiceClient("cloudwatch")
    cost_explorer = _ServiceClient("ce")
    ec2 = _ServiceClient("ec2")
    organizations = _ServiceClient("organizations")
    cloudtrail = _ServiceClient("cloudtrail")

    @property
    def name(self) -> str:
        return f"{self.platform.name}/{self.region}"

    def session(self) -> boto3.Session:
        """The platform's boto3 session; for a role, assumed here (its AccessDenied is raised here)."""
        if self._session is None:
            self._session = self.roles.session(self.platform, self.region, self._config())
        return self._session

    def _config(self, paced: bool = False) -> Config:
        return Config(
            user_agent=tool_user_agent(),
            retries={"mode": "standard" if paced else "adaptive", "max_attempts": RETRY_ATTEMPTS},
            max_pool_connections=self.max_pool,
            connect_timeout=10,
            read_timeout=60,
        )

    def client(self, service: str):
        if service in UNPACED:
            return self._client(service, None, None)
        # Resolved outside the lock: without an account or role configured it is an STS call of this session.
        try:
            account_id = self.resolve_account_id()
        except AWS_ERRORS:  # the service's own calls will say why; pace them by the platform meanwhile
            account_id = f"platform {self.platform.name}"
        limiter = process_pacing().limiter(account_id, self.region, service, self.platform.max_requests_per_second)
        return self._client(service, account_id if tracing_active() else None, limiter)

    def _client(self, service: str, traced_account: str | None, limiter):
        with self._lock:
            if service not in self._clients:
                kwargs = {"region_name": self.region, "config": self._config(paced=limiter is not None)}
                if self.platform.endpoint_url:
                    kwargs["endpoint_url"] = self.platform.endpoint_url
                client = self.session().client(service, **kwargs)
                self.counter.attach(client)
                if traced_account:
                    _trace_account(client, traced_account)
                if limiter is not None:
                    pace(client, limiter)
                self._clients[service] = client
            return self._clients[service]

    def resolve_account_id(self) -> str:
        """The configured account, else the one in the role ARN, else the credentials' own (one STS call)."""
        if self.account_id is None:
            self.account_id = (self.platform.account_id or sts.account_of_role(self.platform.role_arn)
                               or sts.caller_account(self.client("sts")))
        return self.account_id


def platform_sessions(platforms: list[PlatformConfig], max_pool: int = 16, counter: CallCounter | None = None,
                      roles: AssumedRoles | None = None) -> list[PlatformSession]:
    counter = counter or CallCounter()
    roles = roles or AssumedRoles()
    return [PlatformSession(p, region, max_pool=max_pool, counter=counter, roles=roles)
            for p in platforms for region in p.regions]
