"""WSGI wrapper around moto: names each call, adds latency and throttles like AWS does."""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

_SERVICE_IN_AUTH = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/")
_REGION_IN_AUTH = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/")
_FORM = "application/x-www-form-urlencoded"
# Where the gate leaves a request's account for the app behind it.
ACCOUNT_KEY = "glue_inventory.account"
# When the server read the request line (time.monotonic()): a request is charged to its bucket then.
ARRIVED_KEY = "glue_inventory.arrived"


class TokenBucket:
    """`rate` requests per second on average, bursts up to `burst` requests (default: one second's worth).
    AWS publishes neither the rate nor the bucket's size; a client must meet the limit whatever the size.

    A request is charged at the time it arrived (`take(at)`), not when its handler thread gets to run: on
    a busy machine handler threads run late and together, and AWS counts arrivals."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate if burst is None else burst)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def take(self, at: float | None = None) -> bool:
        with self.lock:
            now = time.monotonic() if at is None else at
            if now > self.updated:  # a request that arrived before the last one charged adds no time
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


def operation_name(environ: dict[str, Any]) -> tuple[str, str]:
    """(operation, protocol) of a request: e.g. ("GetJobRuns", "json"), ("GetMetricData", "cbor")."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1], "json"
    path = environ.get("PATH_INFO", "")
    if "/operation/" in path:  # smithy rpc-v2-cbor, CloudWatch's default protocol in botocore >= 1.38
        return path.rsplit("/", 1)[-1], "cbor"
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if not action and environ.get("CONTENT_TYPE", "").startswith(_FORM):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # put it back for moto
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    if action:
        return action[0], "query"
    if request_service(environ) in ("s3", ""):
        has_key = len([part for part in path.split("/") if part]) > 1
        verb = {"GET": "Get", "HEAD": "Head", "PUT": "Put", "DELETE": "Delete", "POST": "Post"}.get(
            environ.get("REQUEST_METHOD", ""), environ.get("REQUEST_METHOD", ""))
        if verb == "Get" and not has_key:
            return "ListObjects", "s3"
        return f"{verb}{'Object' if has_key else 'Bucket'}", "s3"
    return f"{environ.get('REQUEST_METHOD')} {path}", "rest"


def _cbor_text(value: str) -> bytes:
    data = value.encode("utf-8")
    assert len(data) < 256
    return (bytes([0x60 + len(data)]) if len(data) < 24 else bytes([0x78, len(data)])) + data


def throttle_response(protocol: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """What AWS answers when a caller exceeds its request rate, per wire protocol."""
    if protocol == "json":
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.1")], body
    if protocol == "cbor":
        body = bytes([0xA2]) + _cbor_text("__type") + _cbor_text("ThrottlingException") + \
            _cbor_text("message") + _cbor_text("Rate exceeded")
        return "400 Bad Request", [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")], body
    if protocol == "s3":
        body = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
                b"<Message>Please reduce your request rate.</Message></Error>")
        return "503 Slow Down", [("Content-Type", "application/xml")], body
    body = (b'<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>'
            b"</Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>")
    return "400 Bad Request", [("Content-Type", "text/xml")], body


@dataclass
class Fault:
    """An error the simulator answers instead of moto: for an operation (and optionally a region or a
    string in the request body), `times` times or forever (None)."""

    operation: str
    code: str = "AccessDeniedException"
    status: int = 400
    message: str = "User is not authorized to perform this action"
    region: str | None = None
    body_contains: str | None = None
    times: int | None = None
    hits: int = 0

    def matches(self, operation: str, region: str | None, body: bytes) -> bool:
        if self.operation != operation or (self.region and self.region != region):
            return False
        if self.body_contains and self.body_contains.encode() not in body:
            return False
        return self.times is None or self.hits < self.times

    def response(self, protocol: str) -> tuple[str, list[tuple[str, str]], bytes]:
        reason = "Internal Server Error" if self.status >= 500 else "Bad Request"
        if protocol == "s3":
            body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{self.code}</Code>'
                    f"<Message>{self.message}</Message></Error>").encode()
            return f"{self.status} {reason}", [("Content-Type", "application/xml")], body
        if protocol == "query":
            body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{self.code}</Code>"
                    f"<Message>{self.message}</Message></Error>"
                    "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>").encode()
            return f"{self.status} {reason}", [("Content-Type", "text/xml")], body
        if protocol == "cbor":
            body = bytes([0xA2]) + _cbor_text("__type") + _cbor_text(self.code) + \
                _cbor_text("message") + _cbor_text(self.message)
            return f"{self.status} {reason}", [("Content-Type", "application/cbor"),
                                               ("smithy-protocol", "rpc-v2-cbor")], body
        body = json.dumps({"__type": self.code, "message": self.message}).encode()
        return f"{self.status} {reason}", [("Content-Type", "application/x-amz-json-1.1")], body


@dataclass
class Stall:
    """The next call of `operation` waits until `release()`, then is dropped (a 503, moto never sees it): the
    call of a client killed while it waited. `arrived` is set when the call came in."""

    operation: str
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    # How long a stalled call waits at most, so a forgotten stall never hangs the server's thread.
    timeout_s: float = 120.0

    def release(self) -> None:
        self.released.set()


def expired_response(protocol: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """What AWS answers a request signed with expired temporary credentials (query APIs say ExpiredToken)."""
    code = "ExpiredToken" if protocol == "query" else "ExpiredTokenException"
    return Fault("*", code=code, message="The security token included in the request is expired").response(protocol)


def request_region(environ: dict[str, Any]) -> str:
    """The Region a SigV4-signed request was signed for ("" when unsigned)."""
    region = _REGION_IN_AUTH.search(environ.get("HTTP_AUTHORIZATION", ""))
    return region.group(1) if region else ""


def request_service(environ: dict[str, Any]) -> str:
    """The service a SigV4-signed request was signed for, e.g. "glue", "sts" ("" when unsigned)."""
    service = _SERVICE_IN_AUTH.search(environ.get("HTTP_AUTHORIZATION", ""))
    return service.group(1) if service else ""


class CallGate:
    """The WSGI app the simulator serves: counts, delays and rate-limits calls before moto sees them.

    AWS throttles API requests per service, account and Region: each (account, Region, service) gets a
    bucket of `rate` requests per second holding `burst` (an AssumeRole never waits for Glue's bucket).
    `account_of` names a request's account (moto's, by access key; it is put in the environ under ACCOUNT_KEY
    for the app) and `expired` says its credentials expired.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], latency_s: float, rate: float | None,
                 burst: float | None = None) -> None:
        self.app = app
        self.latency_s = latency_s
        self.rate = rate
        self.burst = burst
        self.buckets: dict[str, TokenBucket] = {}
        self.counts: Counter[str] = Counter()
        self.region_counts: Counter[str] = Counter()
        self.platform_counts: Counter[str] = Counter()
        # (first, last) arrival of a call per `<account>/<Region>` (time.monotonic(), the machine's clock)
        self.platform_spans: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()
        self.before_call: Callable[[], None] = lambda: None
        self.account_of: Callable[[dict[str, Any]], str] = lambda _environ: ""
        self.expired: Callable[[dict[str, Any]], bool] = lambda _environ: False
        self.faults: list[Fault] = []
        self.stalls: list[Stall] = []

    def _fault(self, environ: dict[str, Any], operation: str) -> Fault | None:
        candidates = [f for f in self.faults if f.operation == operation]
        if not candidates:
            return None
        region = request_region(environ) or None
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        path = environ.get("PATH_INFO", "").encode()
        with self.lock:
            for fault in candidates:
                if fault.matches(operation, region, body + path):
                    fault.hits += 1
                    return fault
        return None

    def _stall(self, operation: str) -> Stall | None:
        with self.lock:
            stall = next((s for s in self.stalls if s.operation == operation), None)
            if stall is not None:
                self.stalls.remove(stall)
            return stall

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api"):
            return self.app(environ, start_response)
        operation, protocol = operation_name(environ)
        region = request_region(environ)
        account = environ[ACCOUNT_KEY] = self.account_of(environ)
        platform = f"{account}/{region}"
        bucket_key = f"{platform}/{request_service(environ)}"
        arrived = environ.get(ARRIVED_KEY) or time.monotonic()
        with self.lock:
            self.counts[operation] += 1
            self.region_counts[region] += 1
            self.platform_counts[platform] += 1
            first, last = self.platform_spans.get(platform, (arrived, arrived))
            self.platform_spans[platform] = (min(first, arrived), max(last, arrived))
            bucket = self.buckets.setdefault(bucket_key, TokenBucket(self.rate, self.burst)) if self.rate else None
        if self.latency_s:
            time.sleep(self.latency_s)
        if self.expired(environ):
            status, headers, body = expired_response(protocol)
            start_response(status, [*headers, ("Content-Length", str(len(body)))])
            return [body]
        stall = self._stall(operation)
        if stall is not None:
            stall.arrived.set()
            stall.released.wait(stall.timeout_s)
            fault = Fault(operation, code="ServiceUnavailable", status=503, message="the caller went away")
        else:
            fault = self._fault(environ, operation)
        if fault is not None:
            status, headers, body = fault.response(protocol)
            start_response(status, [*headers, ("Content-Length", str(len(body)))])
            return [body]
        if bucket and not bucket.take(arrived):
            status, headers, body = throttle_response(protocol)
            start_response(status, [*headers, ("Content-Length", str(len(body)))])
            return [body]
        self.before_call()
        return self.app(environ, start_response)
