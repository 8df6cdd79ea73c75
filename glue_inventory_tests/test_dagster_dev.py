"""End to end: `dagster dev` (webserver and daemon) on a simulated fleet, with nobody launching anything;
and the repo's `dagster.yaml` as Dagster 1.13 reads it."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from glue_inventory.orchestration.automation.runs import STAGE_TAG
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.db import dispose_engines, engine_for
from glue_inventory.storage.tables import analysis_runs, data_jobs, deep_analysis_candidates

REPO = Path(__file__).resolve().parents[1]
DEADLINE_S = 240
# Short enough that the chain (first inventory → refresh → candidates → deep analysis) takes seconds per step.
INTERVAL_S = "5"

pytestmark = pytest.mark.e2e


def test_the_repo_dagster_yaml_loads_in_dagster_1_13(postgres_url, tmp_path, monkeypatch):
    """The template users copy: Postgres storage, run queue limits and the aws_api pool, in 1.13's keys."""
    (tmp_path / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_PG_URL", postgres_url.replace("postgresql+psycopg://", "postgresql+psycopg2://"))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        config = instance.get_concurrency_config()
        assert type(instance.run_storage).__name__ == "PooledRunStorage"
    assert config.pool_config.default_pool_limit == 4
    assert config.run_queue_config.max_concurrent_runs == 8
    limits = config.run_queue_config.tag_concurrency_limits
    assert {"key": STAGE_TAG, "value": "deep_analysis", "limit": 2} in limits
    assert {"key": STAGE_TAG, "value": "inventory", "limit": 1} in limits


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 — http.server's naming
        self.server.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        return None


@pytest.fixture
def webhook() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _instance_home(home: Path) -> None:
    """The repo's dagster.yaml without its Postgres storage: Dagster then keeps its own state in SQLite."""
    settings = yaml.safe_load((REPO / "dagster.yaml").read_text())
    settings.pop("storage")
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(settings))


def _progress(url: str) -> dict[str, int]:
    with engine_for(url).connect() as conn:
        def count(query) -> int:
            return conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()

        return {
            "analysed": count(sa.select(data_jobs.c.id).where(data_jobs.c.status.is_not(None))),
            "candidates": count(sa.select(deep_analysis_candidates.c.id).where(deep_analysis_candidates.c.is_current)),
            "deep": count(sa.select(analysis_runs.c.id).where(analysis_runs.c.analysis_type == "deep")),
        }


def _stop(process: subprocess.Popen) -> None:
    """dagster dev, its daemon, code server and run workers: the whole process group."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # stragglers that outlived the leader
    except ProcessLookupError:
        pass


def test_dagster_dev_inventories_and_analyses_without_a_manual_launch(tmp_path, webhook):
    fleet = build_fleet(8, 2, datetime.now(UTC), account_id="120987654321")
    live = sum(1 for job in fleet.jobs if job.region == "us-east-1")
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"deep_analysis": {"top_k_savings": 1, "top_k_risk": 0}, "notifications": {
        "webhook_url": f"http://127.0.0.1:{webhook.server_address[1]}/hook"}}))
    _instance_home(tmp_path / "dagster_home")
    port = _free_port()
    log = tmp_path / "dagster_dev.log"
    with start_simulator(fleet) as sim, log.open("wb") as output:
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("AWS_", "GLUE_INVENTORY_", "OPENAI_", "DAGSTER_"))}
        env |= sim.env() | {
            "DAGSTER_HOME": str(tmp_path / "dagster_home"), "GLUE_INVENTORY_DATABASE_URL": url,
            "GLUE_INVENTORY_REPORTS_DIR": str(tmp_path / "reports"), "GLUE_INVENTORY_CONFIG": str(config),
            "GLUE_INVENTORY_SYNC_INTERVAL_S": INTERVAL_S, "GLUE_INVENTORY_AUTOMATION_INTERVAL_S": INTERVAL_S,
            "DAGSTER_EVENT_BATCH_SIZE": "1000", "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true"}
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster"), "dev", "-m", "glue_inventory.definitions",
             "-h", "127.0.0.1", "-p", str(port)],
            cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        progress: dict[str, int] = {}
        try:
            deadline = time.monotonic() + DEADLINE_S
            while time.monotonic() < deadline:
                assert process.poll() is None, f"dagster dev exited:\n{log.read_text()[-4000:]}"
                if Path(url.removeprefix("sqlite:///")).exists():
                    progress = _progress(url)
                    summaries = [m["text"] for m in webhook.received if "inventory refreshed" in m["text"]]
                    if progress["analysed"] == live and progress["candidates"] and progress["deep"] and summaries:
                        break
                time.sleep(3)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=10) as response:  # noqa: S310
                assert response.status == 200
        finally:
            _stop(process)
            dispose_engines()
    assert progress.get("analysed") == live, (progress, log.read_text()[-4000:])
    assert progress["candidates"] >= 1 and progress["deep"] >= 1, (progress, log.read_text()[-4000:])
    assert any(f"{live} live Glue jobs" in m["text"] for m in webhook.received), webhook.received
