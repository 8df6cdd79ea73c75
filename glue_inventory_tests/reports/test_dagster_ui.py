"""`dagster dev` on pipeline data in a real headless Chromium: the asset graph renders, a deep-analysed job's
partition shows its report and findings, the candidates asset shows its table."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import dagster as dg
import pytest

from glue_inventory.pipeline import run_pipeline
from glue_inventory.services.deep_selection import load_chosen
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.analyses import latest_deep
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.jobs import read_jobs
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


@dataclass
class Ui:
    url: str
    deep_key: str
    deep_name: str
    rule_ids: list[str]
    top_candidate: str


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory):
    """`dagster dev` over a simulated fleet's inventory with two jobs deep-analysed (one webserver per module)."""
    tmp_path = tmp_path_factory.mktemp("ui")
    fleet = build_fleet(12, 4, datetime.now(UTC), account_id="710987654321")
    with start_simulator(fleet) as sim, pytest.MonkeyPatch.context() as monkeypatch:
        home = tmp_path / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\nnux:\n  enabled: false\n")
        env = sim.env() | {"DAGSTER_HOME": str(home),
                           "GLUE_INVENTORY_DATABASE_URL": f"sqlite:///{tmp_path / 'inventory.db'}",
                           "GLUE_INVENTORY_REPORTS_DIR": str(tmp_path / "reports"),
                           "GLUE_INVENTORY_AUTOMATION": "off"}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("GLUE_INVENTORY_CONFIG", raising=False)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        with dg.DagsterInstance.get() as instance:
            run_pipeline(instance, log=lambda _: None, deep_jobs=2)
        engine = engine_for()
        top = next(job.key for job in load_chosen(engine) if job.lane == "risk")  # a job with findings
        jobs = read_jobs(engine, [top])
        deep = latest_deep(engine)[jobs[top]["data_job_id"]]
        rule_ids = sorted({f["rule_id"] for f in deep["code_analysis"]["findings"]})
        port = _free_port()
        process = subprocess.Popen(  # noqa: S603 - our own venv's dagster
            [str(BIN / "dagster"), "dev", "-m", "glue_inventory.definitions", "-h", "127.0.0.1", "-p", str(port)],
            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            _wait_for(f"http://127.0.0.1:{port}/server_info", time.monotonic() + STARTUP_S)
            yield Ui(f"http://127.0.0.1:{port}", top, jobs[top]["name"], rule_ids, top)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


ASSETS = ("glue_jobs", "job_preliminary_metrics", "deep_analysis_candidates", "job_cloudwatch_metrics",
          "job_script", "job_code_analysis", "job_ai_review", "job_deep_analysis", "remediation_plans",
          "executive_report")


def test_asset_graph_page_renders(dagster_dev, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{dagster_dev.url}/asset-groups", wait_until="domcontentloaded", timeout=120_000)
    for group in ("inventory", "deep_analysis", "reporting"):
        page.get_by_text(group, exact=True).first.wait_for(timeout=120_000)
    skip = page.get_by_role("button", name="Skip")
    if skip.count():
        skip.first.click()  # the webserver's one-time newsletter prompt
    shot = tmp_path / "asset-graph.png"
    page.screenshot(path=str(shot))
    assert distinct_colours(shot.read_bytes()) > 8

    page.goto(f"{dagster_dev.url}/assets", wait_until="domcontentloaded", timeout=120_000)
    for name in ASSETS:
        # Long names are middle-truncated on screen; the full name stays in the page.
        page.get_by_text(name, exact=True).first.wait_for(state="attached", timeout=120_000)
    page.close()
    assert not errors, errors


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url, wait_until="domcontentloaded", timeout=120_000)
    return page, errors


def test_a_deep_analysed_partition_shows_its_report_and_findings(dagster_dev, browser):
    ui = dagster_dev
    page, errors = _open(browser, f"{ui.url}/assets/job_deep_analysis?view=partitions"
                                  f"&partition={quote(ui.deep_key, safe='')}")
    page.get_by_text("Latest materialization").first.wait_for(timeout=120_000)
    # The findings table: its columns and every rule the analysis found, as cells.
    page.get_by_text("rule_id", exact=True).first.wait_for(timeout=60_000)
    assert ui.rule_ids
    for rule_id in ui.rule_ids:
        assert page.get_by_role("cell", name=rule_id, exact=True).count() >= 1, rule_id
    for name in ("savings_identified_usd", "savings_rule_of_thumb_usd", "chosen_by"):
        assert page.get_by_text(name, exact=True).count() == 1, name
    # The report itself, rendered from the Markdown metadata of this partition.
    page.get_by_text("[Show Markdown]").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(f"Glue job: {ui.deep_name}").wait_for(timeout=30_000)
    assert dialog.get_by_text("What to do first").count() == 1
    page.close()
    assert not errors, errors


def test_the_candidates_asset_shows_its_table(dagster_dev, browser):
    ui = dagster_dev
    page, errors = _open(browser, f"{ui.url}/assets/deep_analysis_candidates")
    page.get_by_text("top_candidates", exact=True).first.wait_for(timeout=120_000)
    for column in ("job", "reasons", "priority", "score", "identified_usd_month", "potential_usd_month", "deep_lane",
                   "owner"):
        assert page.get_by_role("columnheader", name=column, exact=True).count() >= 1, column
    assert page.get_by_role("cell", name=ui.top_candidate, exact=True).count() >= 1
    page.close()
    assert not errors, errors
