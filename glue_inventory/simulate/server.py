"""`start_simulator`: serves a `Fleet` from moto on 127.0.0.1, counting, slowing and throttling calls."""

from __future__ import annotations

import contextlib
import io
import socket
import struct
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from moto.glue.models import glue_backends
from moto.iam.models import AccessKey, iam_backends
from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import BaseWSGIServer, make_server

from glue_inventory.simulate.accounts import RequestAccounts
from glue_inventory.simulate.catalog import DEFAULT_ACCOUNT_ID, DEFAULT_REGION
from glue_inventory.simulate.cloudtrail import EventHistory
from glue_inventory.simulate.cur import CurExport, write_cur_export
from glue_inventory.simulate.dispatch import SimulatorApp
from glue_inventory.simulate.fleet import Fleet, SimJob
from glue_inventory.simulate.glue_writes import GlueWrites
from glue_inventory.simulate.middleware import ARRIVED_KEY, CallGate, Fault, Stall
from glue_inventory.simulate.mutations import add_runs, delete_job, expire_runs
from glue_inventory.simulate.organization import seed_organization
from glue_inventory.simulate.seed import add_job_to_backend, seed_fleet
from glue_inventory.simulate.truth import JobTruth, compute_truth

_live_accounts: set[str] = set()
_live_lock = threading.Lock()


class _QuietHandler(MotoRequestHandler):
    """No access log line per request (benchmarks make hundreds of thousands); stamps when a request reached
    the machine, for the rate limit (the kernel's receive time, on Linux); keeps the connection open for the
    client's next request, as AWS does.

    werkzeug's `run_wsgi` closes every connection (http.server cannot skip a body the application left unread),
    so each call paid a new connection on both sides: the client's socket, connect and close, a thread
    started by the server, milliseconds between a request leaving the client's limiter and arriving. AWS keeps
    connections open and botocore pools them. Here the body is read whole before the application runs and the
    answer is sent with its length, so the next request starts where this one ended; a chunked body is left to
    werkzeug, which closes."""

    protocol_version = "HTTP/1.1"
    arrived = 0.0
    _stamps: _ArrivalStamps | None = None

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _open_connections(self.server).add(self.connection)
        self._stamps = _ArrivalStamps.of(self.connection)
        if self._stamps is not None:
            self.rfile = io.BufferedReader(self._stamps)

    def handle_one_request(self) -> None:
        if self._stamps is not None:
            self._stamps.first = None  # the next read is this request's first
        super().handle_one_request()

    def finish(self) -> None:
        _open_connections(self.server).discard(self.connection)
        super().finish()

    def parse_request(self) -> bool:
        # When the request line reached the machine (the kernel's stamp, so the server's own delays — a thread
        # waiting for the GIL while moto serializes a page — do not move it), else when it was read.
        received = self._stamps.first if self._stamps is not None else None
        self.arrived = time.monotonic() if received is None else received - time.time() + time.monotonic()
        return super().parse_request()

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ[ARRIVED_KEY] = self.arrived
        return environ

    def run_wsgi(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            super().run_wsgi()
            return
        environ = self.make_environ()  # an `Expect: 100-continue` was answered by http.server's parse_request
        environ["wsgi.input"] = io.BytesIO(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        started: list[Any] = []
        body: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            started[:] = [status, headers]
            return body.append

        try:
            answer = self.server.app(environ, start_response)
            try:
                body.extend(answer)
            finally:
                if hasattr(answer, "close"):
                    answer.close()
        except Exception:  # noqa: BLE001 - the simulator answers 500 and goes on, as werkzeug's server does
            self.server.log("error", "Error on request:\n%s", traceback.format_exc())
            self.send_error(500)  # and closes the connection
            return
        status, headers = started
        code, _, reason = status.partition(" ")
        data = b"".join(body)
        self.send_response(int(code), reason)
        for key, value in headers:
            if key.lower() not in ("connection", "transfer-encoding"):
                self.send_header(key, value)
        if not any(key.lower() == "content-length" for key, _ in headers):  # HEAD keeps the object's
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class _ArrivalStamps(io.RawIOBase):
    """A connection read with the kernel's receive time of each read (Linux SO_TIMESTAMPNS); `first` is the
    receive time, on the wall clock, of the first read since it was last cleared."""

    SO_TIMESTAMPNS = 35  # Linux's value; Python's socket module does not name it

    def __init__(self, connection: socket.socket) -> None:
        super().__init__()
        self.connection = connection
        self.first: float | None = None

    @classmethod
    def enable(cls, connection: socket.socket) -> bool:
        """Ask the kernel to stamp what `connection` receives (a listener's accepted connections inherit it)."""
        if sys.platform != "linux":
            return False
        try:
            connection.setsockopt(socket.SOL_SOCKET, cls.SO_TIMESTAMPNS, 1)
        except OSError:
            return False
        return True

    @classmethod
    def of(cls, connection: socket.socket) -> _ArrivalStamps | None:
        return cls(connection) if cls.enable(connection) else None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size, ancillary, _flags, _address = self.connection.recvmsg_into([buffer], socket.CMSG_SPACE(16))
        for level, kind, data in ancillary:
            if self.first is None and level == socket.SOL_SOCKET and kind == self.SO_TIMESTAMPNS:
                seconds, nanoseconds = struct.unpack("qq", data[:16])
                self.first = seconds + nanoseconds / 1e9 if seconds else None
        return size


def _open_connections(server: Any) -> set[socket.socket]:
    """The connections a server is serving (kept open between requests), which `Simulator.stop()` shuts."""
    connections: set[socket.socket] = server.__dict__.setdefault("glue_inventory_connections", set())
    return connections


class SimulatorError(RuntimeError):
    """The simulator cannot start as asked; the message says why and what to change."""


class Simulator:
    """A running simulated estate. Stop it with `stop()` or use it as a context manager."""

    def __init__(self, fleet: Fleet, server: BaseWSGIServer, gate: CallGate) -> None:
        self.fleet = fleet
        self._server = server
        self._gate = gate
        self._thread = threading.Thread(target=server.serve_forever, name="glue-simulator", daemon=True)
        self._seed_lock = threading.Lock()
        self._seed_token = object()
        self.access_key_id, self.secret_access_key = "testing", "testing"
        self._cur_options: dict[str, Any] | None = None
        self.cur_export: CurExport | None = None
        self._reseed()
        gate.before_call = self._ensure_seeded
        gate.app.intercepts.update(GlueWrites(fleet, self._seed_lock).handlers())
        self.event_history = EventHistory(gate.app.moto_app, fleet.account_id)
        gate.app.intercepts.update(self.event_history.handlers())
        accounts = RequestAccounts(fleet.account_id)
        gate.account_of, gate.expired = accounts.account, accounts.expired
        # An Organization's member accounts whose role cannot be assumed are part of the estate, not a fault
        # a test injects: they survive clear_faults.
        self._estate_faults = fleet.organization.faults() if fleet.organization else []
        gate.faults.extend(self._estate_faults)
        self._thread.start()

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def call_counts(self) -> Counter[str]:
        return self._gate.counts

    @property
    def region_call_counts(self) -> Counter[str]:
        """Calls per Region (of every account)."""
        return self._gate.region_counts

    @property
    def platform_call_counts(self) -> Counter[str]:
        """Calls per `<account>/<Region>`: each has its own rate limit, as on AWS."""
        return self._gate.platform_counts

    @property
    def platform_call_spans(self) -> dict[str, tuple[float, float]]:
        """(first, last) arrival time of a call per `<account>/<Region>`, on the machine's monotonic clock."""
        with self._gate.lock:
            return dict(self._gate.platform_spans)

    def reset_call_counts(self) -> None:
        with self._gate.lock:
            self._gate.counts.clear()
            self._gate.region_counts.clear()
            self._gate.platform_counts.clear()
            self._gate.platform_spans.clear()

    def env(self) -> dict[str, str]:
        """Environment for boto3 clients talking to this simulator."""
        return {"AWS_ENDPOINT_URL": self.endpoint_url, "AWS_ACCESS_KEY_ID": self.access_key_id,
                "AWS_SECRET_ACCESS_KEY": self.secret_access_key, "AWS_REGION": DEFAULT_REGION,
                "AWS_DEFAULT_REGION": DEFAULT_REGION}

    def truth(self, now: datetime | None = None) -> dict[str, JobTruth]:
        return compute_truth(self.fleet, now or self.fleet.now)

    def delete_job(self, name: str, region: str = DEFAULT_REGION) -> None:
        with self._seed_lock:
            delete_job(self.fleet, name, region)

    def add_runs(self, name: str, n: int, region: str = DEFAULT_REGION, state: str = "SUCCEEDED") -> None:
        """`n` more finished runs of `name`, the newest a minute ago (it becomes `active`)."""
        with self._seed_lock:
            add_runs(self.fleet, name, n, region, state)

    def add_job(self, job: SimJob) -> None:
        """A job built elsewhere (e.g. from another `build_fleet`), renamed by the caller if needed."""
        with self._seed_lock:
            self.fleet.jobs.append(job)
            add_job_to_backend(job, self.fleet.runs_newest_first)

    def expire_runs(self, older_than: datetime) -> int:
        """Drop runs started before `older_than` from Glue, as its retention does; returns how many."""
        with self._seed_lock:
            return expire_runs(self.fleet, older_than)

    def write_cur_export(self, **options: Any) -> CurExport:
        """A Cost and Usage Report of the fleet in its S3 (simulate/cur.py); `export.uri` is the billing.cur_uri."""
        with self._seed_lock:
            self._cur_options = options
            self.cur_export = write_cur_export(self.fleet, **options)
        return self.cur_export

    def inject(self, fault: Fault) -> Fault:
        """Answer matching calls with `fault`'s error (AccessDenied, 5xx, throttling) instead of moto's."""
        self._gate.faults.append(fault)
        return fault

    def stall(self, operation: str) -> Stall:
        """Hold the next call of `operation` until `release()`, then drop it (see `Stall`)."""
        stall = Stall(operation)
        with self._gate.lock:
            self._gate.stalls.append(stall)
        return stall

    def clear_faults(self) -> None:
        self._gate.faults[:] = self._estate_faults

    def stop(self) -> None:
        self._server.shutdown()
        for connection in list(_open_connections(self._server)):
            with contextlib.suppress(OSError):  # the client closed it already
                connection.shutdown(socket.SHUT_RDWR)  # its thread, waiting for a next request, reads the end
        self._server.server_close()
        self._thread.join(timeout=10)
        with _live_lock:
            _live_accounts.difference_update(self.fleet.accounts)

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _reseed(self) -> None:
        seed_fleet(self.fleet)
        if self.fleet.organization is not None:
            seed_organization(self.fleet.organization)
        account = self.fleet.account_id
        if account != DEFAULT_ACCOUNT_ID:
            # moto maps a request to an account by its access key; any unknown key means 123456789012.
            self.access_key_id = f"AKIASIM{account}X"
            self.secret_access_key = "testing"
            key = AccessKey(None, "AKIA", account)
            key.access_key_id = self.access_key_id
            iam_backends[account]["global"].access_keys[self.access_key_id] = key
        if self._cur_options is not None:
            self.cur_export = write_cur_export(self.fleet, **self._cur_options)
        glue_backends[account][DEFAULT_REGION].glue_inventory_seed = self._seed_token

    def _ensure_seeded(self) -> None:
        """Re-seed if something else in the process (e.g. `mock_aws`) reset moto's backends."""
        backend = glue_backends[self.fleet.account_id][DEFAULT_REGION]
        if getattr(backend, "glue_inventory_seed", None) is self._seed_token:
            return
        with self._seed_lock:
            backend = glue_backends[self.fleet.account_id][DEFAULT_REGION]
            if getattr(backend, "glue_inventory_seed", None) is not self._seed_token:
                self._reseed()


def start_simulator(fleet: Fleet, port: int = 0, latency_ms: int = 0,
                    rate_limit_per_s: float | None = None, burst: float | None = None) -> Simulator:
    """Seed moto with `fleet` and serve it on 127.0.0.1:`port` (0 picks a free port). Above
    `rate_limit_per_s` per (account, Region, service) it throttles; its bucket holds `burst` requests
    (default: one second's worth)."""
    if latency_ms < 0:
        raise SimulatorError(f"latency_ms must be 0 or more, got {latency_ms}")
    if rate_limit_per_s is not None and rate_limit_per_s <= 0:
        raise SimulatorError(f"rate_limit_per_s must be positive or None, got {rate_limit_per_s}")
    if burst is not None and burst < 1:
        raise SimulatorError(f"burst must be 1 request or more (or None: one second's worth), got {burst}")
    # Bind first (a busy port is the error a user can act on); werkzeug's make_server would answer a
    # busy port with print() and SystemExit.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", port))
        _ArrivalStamps.enable(listener)  # so a connection's first request is stamped too
        listener.listen(128)
    except OSError as exc:
        listener.close()
        raise SimulatorError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}) — "
                             "choose another port, or 0 for any free one") from None
    with _live_lock:
        taken = sorted(_live_accounts & set(fleet.accounts))
        if taken:
            listener.close()
            raise SimulatorError(
                f"a simulator for account {taken[0]} is already running in this process — stop it "
                "first, or build this fleet with another account_id")
        _live_accounts.update(fleet.accounts)
    gate = CallGate(SimulatorApp(fleet.account_id), latency_ms / 1000, rate_limit_per_s, burst)
    with listener:
        bound_port = listener.getsockname()[1]
        server = make_server("127.0.0.1", bound_port, gate, threaded=True, request_handler=_QuietHandler,
                             fd=listener.fileno())
    try:
        return Simulator(fleet, server, gate)
    except BaseException:
        server.server_close()
        with _live_lock:
            _live_accounts.difference_update(fleet.accounts)
        raise
