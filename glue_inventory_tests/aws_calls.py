"""pytest plugin: every AWS call glue_inventory's own code makes in the session must be in the IAM policy.

botocore's `BaseClient._make_api_call` (and aiobotocore's, which s3fs uses) is wrapped only to *record*
each call before it goes on unchanged. A call counts when code under `glue_inventory/` (not
`glue_inventory/simulate/`) is on its stack; calls tests make to set up moto are not ours. s3fs calls
run on fsspec's event-loop thread, so they are credited to the thread waiting in `fsspec.asyn.sync`.

At the end of the session (after xdist workers report theirs) each recorded IAM action must be
allowed by `iam/glue-inventory-readonly.json` (or, for Organization discovery,
`iam/glue-inventory-organization.json`) and read-only, or be one of the conditional writes documented in
`iam/README.md` and made from the module that owns it; otherwise the session fails.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import os
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import pytest

import glue_inventory

ROOT = Path(__file__).resolve().parents[1]
POLICY_PATH = ROOT / "iam" / "glue-inventory-readonly.json"
REMEDIATE_POLICY_PATH = ROOT / "iam" / "glue-inventory-remediate.json"
# The management account's (or delegated administrator's) policy for Organization discovery.
ORGANIZATION_POLICY_PATH = ROOT / "iam" / "glue-inventory-organization.json"
_PACKAGE_DIRS = {os.path.dirname(os.path.abspath(glue_inventory.__file__)),
                 os.path.dirname(os.path.realpath(glue_inventory.__file__))}
_EXCLUDED = "glue_inventory/simulate/"
_WORKER_KEY = "glue_inventory_aws_calls"

# IAM service prefixes that differ from botocore's service names (Service Authorization Reference).
IAM_PREFIX = {"resourcegroupstaggingapi": "tag", "monitoring": "cloudwatch", "cloudwatch": "cloudwatch", "ce": "ce"}
# API operations authorised by an IAM action of another name (Amazon S3 "Policy actions for S3 API operations").
IAM_ACTION = {
    "s3:HeadObject": "s3:GetObject",
    "s3:HeadBucket": "s3:ListBucket",
    "s3:ListObjects": "s3:ListBucket",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:CreateMultipartUpload": "s3:PutObject",
    "s3:UploadPart": "s3:PutObject",
    "s3:CompleteMultipartUpload": "s3:PutObject",
}
# CloudTrail's LookupEvents is a read ("Read" access level, Service Authorization Reference).
READ_PREFIXES = ("Get", "List", "Describe", "BatchGet", "Lookup")
READ_ONLY_EXTRA = frozenset({"sts:AssumeRole", "sts:GetCallerIdentity"})
_REPORTS = ("glue_inventory/reports/",)


@dataclass(frozen=True)
class ConditionalWrite:
    """An action outside the read-only policy (a write, or a read only remediation needs), allowed only from
    `modules` (see iam/README.md)."""

    modules: tuple[str, ...]
    when: str


_REMEDIATE = ConditionalWrite(("glue_inventory/aws/glue_write.py",),
                              "apply_remediation applies an approved plan (iam/glue-inventory-remediate.json)")
CONDITIONAL = {
    "sns:Publish": ConditionalWrite(("glue_inventory/aws/sns.py",), "notifications are configured"),
    "s3:PutObject": ConditionalWrite(_REPORTS, "GLUE_INVENTORY_REPORTS_DIR is s3:// (the tool's own bucket)"),
    "s3:ListBucket": ConditionalWrite(_REPORTS, "GLUE_INVENTORY_REPORTS_DIR is s3:// (the tool's own bucket)"),
    "glue:UpdateJob": _REMEDIATE,
    "glue:DeleteJob": _REMEDIATE,
    "glue:DeleteTrigger": _REMEDIATE,
    "cloudtrail:LookupEvents": ConditionalWrite(("glue_inventory/aws/cloudtrail.py",),
                                                "apply_remediation checks who approved a plan "
                                                "(iam/glue-inventory-remediate.json)"),
    "cloudwatch:PutMetricData": ConditionalWrite(("glue_inventory/aws/cloudwatch.py:publish_metric_data",),
                                                 "metrics.cloudwatch_namespace is set (KPIs)"),
}


@dataclass(frozen=True)
class AwsCall:
    """One API call: the IAM action it needs, the operation, and our frames on its stack (innermost first)."""

    action: str
    operation: str
    frames: tuple[str, ...]

    @property
    def caller(self) -> str:
        return self.frames[0]


def iam_action(service_name: str, operation: str) -> str:
    action = f"{IAM_PREFIX.get(service_name, service_name)}:{operation}"
    return IAM_ACTION.get(action, action)


def _package_path(filename: str) -> str | None:
    for base in _PACKAGE_DIRS:
        if filename.startswith(base + os.sep):
            return "glue_inventory/" + filename[len(base) + 1:].replace(os.sep, "/")
    return None


def _our_frames(frame: FrameType | None) -> list[str]:
    frames = []
    while frame is not None:
        path = _package_path(frame.f_code.co_filename)
        if path is not None:
            frames.append(f"{path}:{frame.f_code.co_name}")
        frame = frame.f_back
    return frames


def _waiting_threads_frames() -> list[str]:
    """Our frames of the threads blocked in `fsspec.asyn.sync`, i.e. waiting for this event loop."""
    me = threading.get_ident()
    found: list[str] = []
    for ident, frame in sys._current_frames().items():
        if ident == me:
            continue
        probe, waiting = frame, False
        while probe is not None:
            if probe.f_code.co_name == "sync" and probe.f_code.co_filename.endswith(os.path.join("fsspec", "asyn.py")):
                waiting = True
                break
            probe = probe.f_back
        if waiting:
            found += _our_frames(frame)
    return found


class CallRecorder:
    """Thread-safe record of our AWS calls, plus listeners that see only the calls of a `with` block."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[tuple[str, str, tuple[str, ...]]] = Counter()
        self._listeners: list[list[AwsCall]] = []

    def record(self, service_name: str, operation: str, frame: FrameType | None) -> None:
        frames = _our_frames(frame) or _waiting_threads_frames()
        if not frames or frames[0].startswith(_EXCLUDED):
            return
        call = AwsCall(iam_action(service_name, operation), operation, tuple(frames))
        with self._lock:
            self.counts[(call.action, call.operation, call.frames)] += 1
            for listener in self._listeners:
                listener.append(call)

    def calls(self) -> list[AwsCall]:
        with self._lock:
            return [AwsCall(*key) for key in self.counts]

    @contextmanager
    def listening(self) -> Iterator[list[AwsCall]]:
        seen: list[AwsCall] = []
        with self._lock:
            self._listeners.append(seen)
        try:
            yield seen
        finally:
            with self._lock:
                self._listeners.remove(seen)

    def export(self) -> list[dict]:
        with self._lock:
            return [{"action": a, "operation": o, "frames": list(f), "count": n}
                    for (a, o, f), n in self.counts.items()]

    def merge(self, exported: list[dict]) -> None:
        with self._lock:
            for item in exported:
                self.counts[(item["action"], item["operation"], tuple(item["frames"]))] += item["count"]


RECORDER = CallRecorder()


def recording() -> AbstractContextManager[list[AwsCall]]:
    """`with recording() as calls:` — the AWS calls our code makes inside the block."""
    return RECORDER.listening()


def _service_name(client) -> str:
    return client.meta.service_model.service_name


def install() -> None:
    """Wrap botocore's (and aiobotocore's) `_make_api_call` once per process to record, never to alter."""
    from botocore.client import BaseClient

    if getattr(BaseClient._make_api_call, "_glue_inventory_recorder", False):
        return
    original = BaseClient._make_api_call

    @functools.wraps(original)
    def make_api_call(self, operation_name, api_params):
        RECORDER.record(_service_name(self), operation_name, sys._getframe(1))
        return original(self, operation_name, api_params)

    make_api_call._glue_inventory_recorder = True
    BaseClient._make_api_call = make_api_call
    try:
        from aiobotocore.client import AioBaseClient
    except ImportError:
        return
    original_async = AioBaseClient._make_api_call

    @functools.wraps(original_async)
    async def make_api_call_async(self, operation_name, api_params):
        RECORDER.record(_service_name(self), operation_name, sys._getframe(1))
        return await original_async(self, operation_name, api_params)

    AioBaseClient._make_api_call = make_api_call_async


# --- the policy -----------------------------------------------------------------------------------------------

def load_policy(*paths: Path) -> list[dict]:
    """The statements of the policies at `paths`; by default the member policy and the discovery policy."""
    statements: list[dict] = []
    for path in paths or (POLICY_PATH, ORGANIZATION_POLICY_PATH):
        found = json.loads(path.read_text(encoding="utf-8"))["Statement"]
        statements += [found] if isinstance(found, dict) else found
    return statements


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _matches(action: str, patterns: list[str]) -> bool:
    # IAM action names are case-insensitive; `*` and `?` are the only wildcards.
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


def policy_allows(action: str, statements: list[dict]) -> bool:
    """Allowed by some Allow statement and by no Deny statement (actions only; resources are not modelled)."""
    for statement in statements:
        if "NotAction" in statement:
            raise ValueError("NotAction is not supported by this check: list the actions instead")
    allowed = any(s["Effect"] == "Allow" and _matches(action, _as_list(s["Action"])) for s in statements)
    denied = any(s["Effect"] == "Deny" and _matches(action, _as_list(s["Action"])) for s in statements)
    return allowed and not denied


def is_read_only(action: str) -> bool:
    _, _, name = action.partition(":")
    return action in READ_ONLY_EXTRA or name.startswith(READ_PREFIXES)


def pattern_is_read_only(pattern: str) -> bool:
    """A policy's action pattern grants only read-only actions (`glue:Get*` yes, `glue:*` or `s3:P*` no)."""
    service, _, name = pattern.partition(":")
    literal = name.split("*", 1)[0].split("?", 1)[0]
    if literal != name:
        return "*" not in service and literal.startswith(READ_PREFIXES)
    return is_read_only(pattern)


def violations(calls: list[AwsCall], statements: list[dict]) -> list[str]:
    """What is wrong with each distinct (action, caller): a write, or an action the policy lacks."""
    problems: dict[tuple[str, str], str] = {}
    for call in calls:
        conditional = CONDITIONAL.get(call.action)
        if conditional and any(frame.startswith(conditional.modules) for frame in call.frames):
            continue
        if not is_read_only(call.action):
            problems[(call.action, call.caller)] = f"{call.action} is a write ({call.operation} from {call.caller})"
        elif not policy_allows(call.action, statements):
            problems[(call.action, call.caller)] = (f"{call.action} is not in {POLICY_PATH.relative_to(ROOT)} "
                                                    f"({call.operation} from {call.caller})")
    return sorted(problems.values())


def summary(calls: list[AwsCall], statements: list[dict]) -> dict[str, list[str]]:
    used = sorted({call.action for call in calls})
    granted = sorted({a for s in statements if s["Effect"] == "Allow" for a in _as_list(s["Action"])})
    unused = [pattern for pattern in granted if not any(_matches(action, [pattern]) for action in used)]
    conditional = [action for action in used if action in CONDITIONAL and not policy_allows(action, statements)]
    return {"used": used, "unused": unused, "conditional": conditional, "violations": violations(calls, statements)}


# --- pytest hooks ---------------------------------------------------------------------------------------------

_RESULT = pytest.StashKey[Mapping[str, list[str]]]()


def pytest_configure(config: pytest.Config) -> None:
    install()


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workeroutput")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    RECORDER.merge(getattr(node, "workeroutput", {}).get(_WORKER_KEY, []))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if _is_worker(config):
        config.workeroutput[_WORKER_KEY] = RECORDER.export()
        return
    result = summary(RECORDER.calls(), load_policy())
    config.stash[_RESULT] = result
    if result["violations"] and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    result = config.stash.get(_RESULT, None)
    if not result or not result["used"]:
        return
    if result["violations"]:
        terminalreporter.section("AWS calls outside the read-only IAM policy", red=True)
        for line in result["violations"]:
            terminalreporter.line(f"FAILED {line}", red=True)
        terminalreporter.line("Add read actions to iam/glue-inventory-readonly.json; writes are not allowed "
                              "(conditional writes: iam/README.md).")
        return
    conditional = result["conditional"]
    reads = len(result["used"]) - len(conditional)
    extra = f" + conditional writes {', '.join(conditional)} (iam/README.md)" if conditional else ""
    unused = f"; granted but unused here: {', '.join(result['unused'])}" if result["unused"] else ""
    terminalreporter.write_line(f"AWS calls by glue_inventory: {reads} IAM action(s), all read-only and in "
                                f"{POLICY_PATH.relative_to(ROOT)} or {ORGANIZATION_POLICY_PATH.relative_to(ROOT)}"
                                f"{extra}{unused}")
