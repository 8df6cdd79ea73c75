"""services.inventory and services.preliminary, called directly: the listing and the refresh of a simulated
fleet store what the simulator planted, keep no secret, fetch no run twice and answer for every key."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from glue_inventory.analysis.status import FINISHED_STATES
from glue_inventory.aws.clients import CallCounter, platform_sessions
from glue_inventory.aws.sessions import SessionMap
from glue_inventory.config import PlatformConfig, Settings
from glue_inventory.services.inventory import list_inventory, store_snapshot
from glue_inventory.services.preliminary import PreliminaryRunner
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.jobs import read_jobs
from glue_inventory.storage.tables import job_runs
from glue_inventory_tests.services.conftest import partition_key, settings_for
from glue_inventory_tests.sim_fixtures import point_at


def _runner(inventory) -> PreliminaryRunner:
    return PreliminaryRunner(sessions=inventory.session_map(), counter=CallCounter(), settings=inventory.settings,
                             engine=inventory.engine, log=logging.getLogger(__name__))


def test_every_job_is_stored_with_the_simulators_status_cost_failure_rate_and_run_count(inventory):
    jobs = read_jobs(inventory.engine)
    assert set(jobs) == set(inventory.truth)
    assert {listing.region for listing in inventory.snapshot.listings} == set(inventory.sim.fleet.regions)
    assert not any(listing.error for listing in inventory.snapshot.listings)
    got = {key: (job["status"], round(job["metrics"]["cost_30d_usd"], 6), round(job["metrics"]["failure_rate_30d"], 6),
                 job["metrics"]["runs_total"]) for key, job in jobs.items()}
    want = {key: (t.status, round(t.cost_30d_usd, 6), round(t.failure_rate_30d, 6), t.run_count)
            for key, t in inventory.truth.items()}
    assert got == want
    assert inventory.stats.runs_changed == sum(t.run_count for t in inventory.truth.values())
    assert inventory.stats.jobs_failed == 0
    assert {status for status, *_ in want.values()} >= {"active", "idle", "stale", "abandoned", "never_run", "new"}


def test_argument_names_are_stored_but_no_secret_value_anywhere(inventory):
    secrets = {secret for t in inventory.truth.values() for secret in t.secrets}
    assert secrets, "the fleet plants secrets"
    jobs = read_jobs(inventory.engine)
    with inventory.engine.connect() as conn:
        errors = conn.execute(sa.select(job_runs.c.error_message).where(job_runs.c.error_message.is_not(None))
                              ).scalars().all()
    assert errors
    stored = json.dumps(jobs, default=str) + json.dumps(errors)
    assert not [secret for secret in secrets if secret in stored]
    planted = {partition_key(job.key): job for job in inventory.sim.fleet.jobs}
    for key, job in jobs.items():
        assert job["default_argument_names"] == sorted(planted[key].default_arguments)
        if "secrets_in_arguments" in inventory.truth[key].reasons:
            assert job["secret_argument_names"], key


def test_a_second_refresh_stores_only_the_unfinished_runs_again_and_gives_the_same_metrics(inventory):
    stored = read_jobs(inventory.engine)
    runner = _runner(inventory)
    again = runner.run(sorted(stored))
    unfinished = sum(1 for job in inventory.sim.fleet.jobs for run in job.runs if run.state not in FINISHED_STATES)
    assert unfinished > 0, "the fleet plants running jobs"
    assert runner.stats.jobs_total == runner.stats.jobs_done == len(stored)
    assert runner.stats.runs_changed == unfinished and runner.stats.jobs_failed == 0
    assert runner.stats.pages == len(stored)  # one page each: the newest run is already stored
    assert {key: (row["status"], row["metrics"]["cost_30d_usd"]) for key, row in again.items()} == \
        {key: (job["status"], job["metrics"]["cost_30d_usd"]) for key, job in stored.items()}


def test_the_refresh_answers_for_a_key_not_in_the_inventory_and_refuses_a_malformed_one(inventory):
    unknown = partition_key(f"{inventory.sim.fleet.account_id}/us-east-1/no_such_job")
    assert _runner(inventory).run([unknown])[unknown]["last_error"].startswith("job not in the inventory")
    with pytest.raises(ValueError):
        _runner(inventory).run(["not-a-partition-key"])


def test_a_platform_that_cannot_be_reached_fails_its_jobs_which_keep_their_stored_metrics(inventory):
    keys = sorted(inventory.truth)[:4]
    runner = PreliminaryRunner(sessions=SessionMap([]), counter=CallCounter(), settings=inventory.settings,
                               engine=inventory.engine, log=logging.getLogger(__name__))
    results = runner.run(keys)
    assert runner.stats.jobs_failed == len(keys) and runner.stats.runs_changed == 0
    for key in keys:
        assert results[key]["last_error"].startswith("no configured platform reaches account"), key
        assert results[key]["status"] == inventory.truth[key].status, key


def test_a_vanished_job_is_deleted_and_a_second_platform_on_the_same_account_is_not_listed_twice(
        postgres_url, monkeypatch):
    fleet = build_fleet(6, 3, datetime.now(UTC), account_id="723000000031")
    with start_simulator(fleet) as sim:
        point_at(sim, monkeypatch)
        settings = settings_for(sim)
        twin = PlatformConfig(name="twin", account_id=fleet.account_id, regions=["us-east-1"],
                              endpoint_url=sim.endpoint_url)
        sessions = platform_sessions([*settings.platforms, twin])
        engine = engine_for(postgres_url)
        first = list_inventory(sessions)
        store_snapshot(engine, first)
        assert first.duplicates == [f"twin/us-east-1: same account {fleet.account_id} and Region as sim/us-east-1"]
        victim = next(job for job in fleet.jobs if job.region == "us-east-1")
        sim.delete_job(victim.name)
        second = list_inventory(sessions)
        store_snapshot(engine, second, Settings().pricing)
    jobs = read_jobs(engine)
    assert set(jobs) == {partition_key(job.key) for job in fleet.jobs} | {partition_key(victim.key)}
    assert jobs[partition_key(victim.key)]["status"] == "deleted"
    assert jobs[partition_key(victim.key)]["deleted_at"] is not None
    assert partition_key(victim.key) not in second.live_partition_keys()
    assert second.covers(partition_key(victim.key))
    assert all(job["status"] != "deleted" for key, job in jobs.items() if key != partition_key(victim.key))
    runner = PreliminaryRunner(sessions=SessionMap(sessions), counter=CallCounter(), settings=settings,
                               engine=engine, log=logging.getLogger(__name__))
    assert runner.run([partition_key(victim.key)])[partition_key(victim.key)]["status"] == "deleted"


def test_a_first_history_gives_the_metrics_a_refresh_reads_back_and_counts_a_run_listed_twice_once(
        postgres_url, monkeypatch):
    # A first history's metrics are computed from the runs as fetched, a refresh's from the stored runs: the same
    # numbers, to the last bit, even when Glue lists a run twice (a run that starts while the pages are read
    # pushes the next page's first run back onto it).
    now = datetime.now(UTC)
    fleet = build_fleet(8, 5, now, account_id="723000000032")
    twice = max(fleet.jobs, key=lambda job: len(job.runs))
    twice.runs.append(twice.runs[-1])  # its newest run, listed again
    with start_simulator(fleet) as sim:
        point_at(sim, monkeypatch)
        settings = settings_for(sim)
        sessions = platform_sessions(settings.platforms)
        engine = engine_for(postgres_url)
        store_snapshot(engine, list_inventory(sessions))
        keys = sorted(read_jobs(engine))

        def refresh() -> dict[str, dict]:
            return PreliminaryRunner(sessions=SessionMap(sessions), counter=CallCounter(), settings=settings,
                                     engine=engine, log=logging.getLogger(__name__), now=now).run(keys)

        first, second = refresh(), refresh()
    assert {key: row["metrics"] for key, row in first.items()} == {key: row["metrics"] for key, row in second.items()}
    metrics = first[partition_key(twice.key)]["metrics"]
    assert metrics["runs_total"] == len({run.key for run in twice.runs}) == len(twice.runs) - 1
    assert metrics["runs_30d"] > 0  # the run listed twice is in the window (its cost counted once, as read back)
    assert metrics["last_run_at"][:19] == twice.runs[-1].started_on.isoformat()[:19]  # AWS sends milliseconds
