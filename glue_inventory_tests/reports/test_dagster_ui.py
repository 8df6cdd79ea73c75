"""`dagster dev` on pipeline data: the asset graph renders in a real headless Chromium."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from glue_inventory.pipeline import run_pipeline
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory_tests.reports.png import distinct_colours

BIN = Path(sys.executable).parent
STARTUP_S = 180


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL we built
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {STARTUP_S}s")


@pytest.fixture
def dagster_dev(tmp_path, monkeypatch):
    fleet = build_fleet(12, 4, datetime.now(UTC), account_id="710987654321")
    with start_simulator(fleet) as sim:
        home = tmp_path / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = sim.env() | {"DAGSTER_HOME": str(home),
                           "GLUE_INVENTORY_DATABASE_URL": f"sqlite:///{tmp_path / 'inventory.db'}",
                           "GLUE_INVENTORY_REPORTS_DIR": str(tmp_path / "reports")}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        with dg.DagsterInstance.get() as instance:
            run_pipeline(instance, log=lambda _: None)
        port = _free_port()
        process = subprocess.Popen(  # noqa: S603 - our own venv's dagster
            [str(BIN / "dagster"), "dev", "-m", "glue_inventory.definitions", "-h", "127.0.0.1", "-p", str(port)],
            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            _wait_for(f"http://127.0.0.1:{port}/server_info", time.monotonic() + STARTUP_S)
            yield f"http://127.0.0.1:{port}"
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


ASSETS = ("glue_jobs", "job_preliminary_metrics", "deep_analysis_candidates", "job_cloudwatch_metrics",
          "job_script", "job_code_analysis", "job_ai_review", "job_deep_analysis", "executive_report")


def test_asset_graph_page_renders(dagster_dev, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{dagster_dev}/asset-groups", wait_until="domcontentloaded", timeout=120_000)
    for group in ("inventory", "deep_analysis", "reporting"):
        page.get_by_text(group, exact=True).first.wait_for(timeout=120_000)
    skip = page.get_by_role("button", name="Skip")
    if skip.count():
        skip.first.click()  # the webserver's one-time newsletter prompt
    shot = tmp_path / "asset-graph.png"
    page.screenshot(path=str(shot))
    assert distinct_colours(shot.read_bytes()) > 8

    page.goto(f"{dagster_dev}/assets", wait_until="domcontentloaded", timeout=120_000)
    for name in ASSETS:
        # Long names are middle-truncated on screen; the full name stays in the page.
        page.get_by_text(name, exact=True).first.wait_for(state="attached", timeout=120_000)
    page.close()
    assert not errors, errors
