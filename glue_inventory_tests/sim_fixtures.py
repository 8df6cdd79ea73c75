"""Simulated AWS fleet fixtures (moto behind a local server); nothing global is set at session scope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from glue_inventory.simulate import Simulator, build_fleet, start_simulator

SESSION_JOBS = 60
SESSION_SEED = 7


def aws_env(sim: Simulator) -> dict[str, str]:
    """Environment variables that point boto3 at `sim` with dummy credentials."""
    return sim.env()


@pytest.fixture(scope="session")
def simulator() -> Iterator[Simulator]:
    """A 60-job fleet (seed 7) served for the whole session; tests must not mutate it."""
    with start_simulator(build_fleet(SESSION_JOBS, SESSION_SEED, datetime.now(UTC))) as sim:
        yield sim


@pytest.fixture
def sim_env(simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The session simulator's env vars, also set in os.environ for this test only."""
    env = aws_env(simulator)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return env


def point_at(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """This test's boto3 (and pipeline) talk to `sim` with its credentials; no profile, no LLM key."""
    for name, value in sim.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def point_pipeline_at(monkeypatch: pytest.MonkeyPatch, sim: Simulator, database_url: str, reports_dir: Path,
                      config: Path | None = None) -> None:
    """`point_at`, plus the inventory database, the reports folder and the config file (none: built-in
    defaults) of a pipeline run for one test."""
    point_at(sim, monkeypatch)
    monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", database_url)
    monkeypatch.setenv("GLUE_INVENTORY_REPORTS_DIR", str(reports_dir))
    if config is None:
        monkeypatch.delenv("GLUE_INVENTORY_CONFIG", raising=False)
    else:
        monkeypatch.setenv("GLUE_INVENTORY_CONFIG", str(config))


def platform_config(path: Path, account_id: str, regions: list[str], extra: str = "") -> Path:
    """A config file at `path`: one platform `sim` of `account_id` in `regions`, then the YAML of `extra`."""
    path.write_text(f"platforms:\n  - name: sim\n    account_id: '{account_id}'\n    regions: [{', '.join(regions)}]\n"
                    + extra, encoding="utf-8")
    return path


def billed_estate(sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Path:
    """`sim`'s fleet with its Cost and Usage Report, and the pipeline pointed at it: one platform reaching every
    Region of the fleet, `billing.cur_uri` the export, the reports in `tmp_path / "reports"`."""
    import s3fs  # the billing extra; only the tests that read a bill need it

    export = sim.write_cur_export()
    config = tmp_path / "config.yaml"
    config.write_text(f"platforms:\n  - name: sim\n    regions: [{', '.join(sim.fleet.regions)}]\n"
                      f"billing:\n  cur_uri: {export.uri}\n")
    point_pipeline_at(monkeypatch, sim, database_url, tmp_path / "reports", config)
    s3fs.S3FileSystem.clear_instance_cache()
    return tmp_path / "reports"
