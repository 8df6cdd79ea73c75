"""Shared fixtures of the service tests: one small stored inventory, built by the services themselves (no
Dagster), on a Postgres database of its own and a simulated fleet, and the deep analysis of its chosen jobs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from glue_inventory.aws.clients import CallCounter, PlatformSession, platform_sessions
from glue_inventory.aws.sessions import SessionMap
from glue_inventory.config import PlatformConfig, Settings
from glue_inventory.keys import encode_partition_key
from glue_inventory.services.candidates import CandidateList, candidate_list, stored_evidence
from glue_inventory.services.code.review import ai_reviews, code_analyses
from glue_inventory.services.deep_inputs import cloudwatch_results, script_results
from glue_inventory.services.deep_selection import deep_analysis_plan
from glue_inventory.services.deep_verdict import record_deep_analyses
from glue_inventory.services.inventory import InventorySnapshot, list_inventory, store_snapshot
from glue_inventory.services.preliminary import PreliminaryRunner, RefreshStats, job_record
from glue_inventory.simulate import Simulator, build_fleet, start_simulator
from glue_inventory.simulate.truth import JobTruth, compute_truth
from glue_inventory.storage.candidates import current_lanes_by_key, write_candidates
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.jobs import read_jobs, write_preliminary
from glue_inventory_tests.db_fixtures import fresh_postgres_database

# 30 jobs: the simulator's first 30 archetypes, which plant every status, candidate reason and most code rules.
JOBS = 30
SEED = 23
ACCOUNT = "723000000023"
LIST_RUN, DEEP_RUN, RESCORE_RUN = "services-list", "services-deep", "services-rescore"


def partition_key(truth_key: str) -> str:
    """The partition key of the simulator's `account/region/name`."""
    return encode_partition_key(*truth_key.split("/", 2))


@dataclass
class Inventory:
    """A stored inventory: the simulator it was read from, its database and what each step returned."""

    sim: Simulator
    engine: sa.Engine
    settings: Settings
    sessions: list[PlatformSession]
    snapshot: InventorySnapshot
    stats: RefreshStats
    candidates: CandidateList
    truth: dict[str, JobTruth]  # by partition key

    def session_map(self) -> SessionMap:
        return SessionMap(self.sessions)


@pytest.fixture(scope="module")
def service_database(postgres_server: sa.Engine) -> Iterator[str]:
    """A Postgres database of this module's own (migrated on first use), dropped afterwards."""
    with fresh_postgres_database(postgres_server, "gi_test_services") as url:
        yield url


def settings_for(sim: Simulator) -> Settings:
    """One platform reaching every Region of the simulated fleet."""
    return Settings(platforms=[PlatformConfig(name="sim", account_id=sim.fleet.account_id, regions=sim.fleet.regions,
                                              endpoint_url=sim.endpoint_url)])


def refresh(engine: sa.Engine, settings: Settings, sessions: list[PlatformSession], run_id: str
            ) -> tuple[InventorySnapshot, RefreshStats, CandidateList]:
    """What `glue_jobs`, `job_preliminary_metrics` and `deep_analysis_candidates` do, service by service."""
    snapshot = list_inventory(sessions)
    store_snapshot(engine, snapshot, settings.pricing)
    runner = PreliminaryRunner(sessions=SessionMap(sessions), counter=CallCounter(), settings=settings,
                               engine=engine, log=logging.getLogger(__name__))
    results = runner.run(sorted(snapshot.live_partition_keys()))
    write_preliminary(engine, results.values(), run_id, datetime.now(UTC))
    listed = candidate_list(read_jobs(engine), settings, datetime.now(UTC), stored_evidence(engine))
    write_candidates(engine, listed.rows, run_id)
    return snapshot, runner.stats, listed


@pytest.fixture(scope="module")
def inventory(service_database: str) -> Iterator[Inventory]:
    """A 30-job fleet listed, refreshed and scored into this module's database (one per test module); tests
    must not change it, only a module's own fixtures add to it (`deep`, a bill)."""
    fleet = build_fleet(JOBS, SEED, datetime.now(UTC), account_id=ACCOUNT)
    with start_simulator(fleet) as sim, pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in sim.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        settings = settings_for(sim)
        sessions = platform_sessions(settings.platforms)
        engine = engine_for(service_database)
        snapshot, stats, listed = refresh(engine, settings, sessions, LIST_RUN)
        truth = {partition_key(key): t for key, t in compute_truth(fleet, datetime.now(UTC)).items()}
        yield Inventory(sim, engine, settings, sessions, snapshot, stats, listed, truth)


@dataclass
class DeepAnalysis:
    """The deep analysis of every job the inventory's lanes chose, as `job_deep_analysis` records it, and the
    candidate list rescored from its evidence (lanes kept)."""

    planned: dict[str, str]
    configs: dict[str, str]
    jobs: dict[str, dict]
    scripts: dict[str, dict]
    code: dict[str, dict]
    cloudwatch: dict[str, dict]
    ai: dict[str, dict]
    verdicts: dict[str, dict]
    files: dict[str, str]
    rescored: CandidateList


@pytest.fixture(scope="module")
def deep(inventory: Inventory) -> DeepAnalysis:
    engine, settings = inventory.engine, inventory.settings
    planned, configs = deep_analysis_plan(engine, None)
    jobs = read_jobs(engine, sorted(planned))
    specs = {key: job_record(job).spec for key, job in jobs.items()}
    sessions = inventory.session_map()
    cloudwatch = cloudwatch_results(sessions, engine, jobs, specs, settings, datetime.now(UTC))
    scripts = script_results(sessions, jobs, settings)
    code, _ = code_analyses(engine, jobs, scripts, settings)
    ai = ai_reviews(engine, specs, scripts, code, cloudwatch, settings, {})
    verdicts, files = record_deep_analyses(engine, jobs, scripts, code, cloudwatch, ai, settings, DEEP_RUN)
    rescored = candidate_list(read_jobs(engine), settings, datetime.now(UTC), stored_evidence(engine),
                              kept_lanes=current_lanes_by_key(engine))
    write_candidates(engine, rescored.rows, RESCORE_RUN)
    return DeepAnalysis(planned, configs, jobs, scripts, code, cloudwatch, ai, verdicts, files, rescored)
