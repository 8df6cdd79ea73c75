"""`glue-inventory serve`: what the Helm chart runs, as separate processes on one machine.

A code server (`dagster code-server start`), the webserver and the daemon, on Dagster storage in Postgres,
with queued runs and run monitoring, each restarted with back-off when it exits; Ctrl-C or SIGTERM stops
all three.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from glue_inventory.serve.instance import (
    LOCATION,
    ServeError,
    create_dagster_storage,
    dagster_home,
    prepare_home,
    process_environment,
    serve_settings,
)
from glue_inventory.serve.supervisor import Component, Supervisor
from glue_inventory.storage.db import DatabaseError, ensure_database, upgrade

CHECK_EVERY_S = 0.5
WAITING_NOTE_EVERY_S = 30


def _code_server_ready(port: int) -> bool:
    """The gRPC health check `dagster api grpc-health-check` makes, without a Python process per check."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service="DagsterApi"),
                                                               timeout=5)
        except grpc.RpcError:
            return False
    return answer.status == health_pb2.HealthCheckResponse.SERVING


def _webserver_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/server_info", timeout=5) as response:  # noqa: S310 — our own URL
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _wait(supervisor: Supervisor, stopping: threading.Event, what: str, ready: Callable[[], bool],
          log: Callable[[str], None]) -> bool:
    """Supervise until `ready()`; False when asked to stop first."""
    started = noted = time.monotonic()
    while not stopping.is_set():
        supervisor.check()
        if ready():
            log(f"{what}: ready after {time.monotonic() - started:.1f} s")
            return True
        if time.monotonic() - noted >= WAITING_NOTE_EVERY_S:
            noted = time.monotonic()
            log(f"{what}: still waiting ({noted - started:.0f} s)")
        stopping.wait(CHECK_EVERY_S)
    return False


def _components(bin_dir: Path, workspace: Path, code_port: int, host: str, ui_port: int,
                read_only: bool) -> list[Component]:
    return [
        Component("code-server", [str(bin_dir / "dagster"), "code-server", "start", "-m", "glue_inventory.definitions",
                                  "-h", "127.0.0.1", "-p", str(code_port), "--location-name", LOCATION]),
        Component("webserver", [str(bin_dir / "dagster-webserver"), "-w", str(workspace), "-h", host,
                                "-p", str(ui_port), *(["--read-only"] if read_only else [])]),
        Component("daemon", [str(bin_dir / "dagster-daemon"), "run", "-w", str(workspace)]),
    ]


def run_serve(host: str = "127.0.0.1", read_only: bool = False, external_code_server: bool = False,
              log: Callable[[str], None] | None = None) -> int:
    """Prepare both databases and the instance, start the three processes, supervise them until a signal.
    With `external_code_server` the code server is someone else's (a container): serve waits for it on
    GLUE_INVENTORY_CODE_SERVER_PORT and runs the webserver and the daemon."""
    def note(message: str) -> None:
        print(f"glue-inventory serve: {message}", file=sys.stderr, flush=True)

    log = log or note
    environ = dict(os.environ)
    settings = serve_settings(environ)
    try:
        if ensure_database(settings.dagster_pg_url, "DAGSTER_PG_URL"):
            log("created Dagster's database (DAGSTER_PG_URL)")
        if ensure_database(settings.inventory_url):
            log("created the inventory database (GLUE_INVENTORY_DATABASE_URL)")
        upgrade(settings.inventory_url)
        create_dagster_storage(settings.dagster_pg_url)
    except DatabaseError as exc:
        raise ServeError(str(exc)) from None
    home, temporary = dagster_home(Path.cwd(), environ)
    stopping = threading.Event()
    previous = {signum: signal.signal(signum, lambda *_: stopping.set()) for signum in (signal.SIGINT, signal.SIGTERM)}
    supervisor = Supervisor(process_environment(settings, home, environ), Path.cwd(), log=log)
    try:
        workspace = prepare_home(home, settings.code_server_port)
        code, *others = _components(Path(sys.executable).parent, workspace, settings.code_server_port, host,
                                    settings.ui_port, read_only)
        log(f"DAGSTER_HOME={home}")
        if not external_code_server:
            supervisor.start(code)
        if not _wait(supervisor, stopping, "code server", lambda: _code_server_ready(settings.code_server_port), log):
            return 0
        for component in others:
            supervisor.start(component)
        url = f"http://{host}:{settings.ui_port}"
        if not _wait(supervisor, stopping, "webserver", lambda: _webserver_ready(url), log):
            return 0
        log(f"serving {url} (code server 127.0.0.1:{settings.code_server_port}, daemon running) — "
            f"Ctrl-C stops {'both' if external_code_server else 'all three'}")
        while not stopping.wait(CHECK_EVERY_S):
            supervisor.check()
        return 0
    finally:
        log("stopping")
        supervisor.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if temporary:
            shutil.rmtree(home, ignore_errors=True)
