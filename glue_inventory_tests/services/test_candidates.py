"""services.candidates, called directly on a stored inventory: the reasons are the simulator's, the lanes choose
what the config asks, deleted jobs are never candidates and the files hold the list."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from glue_inventory.services.candidates import candidate_list, stored_evidence
from glue_inventory.storage.candidates import current_candidates, current_lanes_by_key
from glue_inventory.storage.jobs import read_jobs


def test_every_jobs_candidate_reasons_are_the_simulators(inventory):
    rows = {row["key"]: set(row["reasons"]) for row in inventory.candidates.rows}
    assert {key: rows.get(key, set()) for key in inventory.truth} == \
        {key: set(t.reasons) for key, t in inventory.truth.items()}
    assert inventory.candidates.live_jobs == len(inventory.truth)


def test_the_stored_list_is_the_list_the_service_returned(inventory):
    stored = {row["key"]: row for row in current_candidates(inventory.engine)}
    assert set(stored) == {row["key"] for row in inventory.candidates.rows}
    for row in inventory.candidates.rows:
        assert (stored[row["key"]]["priority"], stored[row["key"]]["deep_lane"]) == (row["priority"], row["deep_lane"])
    assert stored_evidence(inventory.engine) == {}  # no deep analysis yet


def test_the_savings_lane_takes_the_largest_savings_and_the_risk_lane_the_riskiest_of_the_rest(inventory):
    listed = candidate_list(read_jobs(inventory.engine), inventory.settings, datetime.now(UTC), top_k=(3, 2))
    savings = [row for row in listed.rows if row["deep_lane"] == "savings"]
    risk = [row for row in listed.rows if row["deep_lane"] == "risk"]
    assert len(savings) == 3 and len(risk) == 2
    by_saving = sorted((row for row in listed.rows if row["estimated_monthly_savings_usd"] > 0),
                       key=lambda row: (-row["estimated_monthly_savings_usd"], row["key"]))
    assert [row["key"] for row in sorted(savings, key=lambda row: row["deep_rank"])] == \
        [row["key"] for row in by_saving[:3]]
    assert sorted(row["deep_rank"] for row in risk) == [1, 2]


def test_kept_lanes_are_kept_whatever_the_lane_sizes(inventory):
    kept = current_lanes_by_key(inventory.engine)
    assert kept
    listed = candidate_list(read_jobs(inventory.engine), inventory.settings, datetime.now(UTC), top_k=(0, 0),
                            kept_lanes=kept)
    assert {row["key"]: (row["deep_lane"], row["deep_rank"]) for row in listed.rows if row["deep_lane"]} == kept


def test_a_deleted_job_is_never_a_candidate(inventory):
    jobs = read_jobs(inventory.engine)
    victim = inventory.candidates.rows[0]["key"]
    jobs[victim] = {**jobs[victim], "status": "deleted"}
    listed = candidate_list(jobs, inventory.settings, datetime.now(UTC))
    assert victim not in {row["key"] for row in listed.rows}
    assert listed.live_jobs == len(jobs) - 1


def test_the_files_hold_every_job_and_every_candidate(inventory):
    files = inventory.candidates.files
    rows = inventory.candidates.rows
    assert set(files) == {"inventory.json", "inventory.csv", "candidates.json", "candidates.csv",
                          "inventory_summary.md"}
    assert json.loads(files["candidates.json"])["candidate_count"] == len(rows)
    assert len(list(csv.DictReader(io.StringIO(files["candidates.csv"])))) == len(rows)
    assert json.loads(files["inventory.json"])["job_count"] == len(inventory.truth)
    assert len(list(csv.DictReader(io.StringIO(files["inventory.csv"])))) == len(inventory.truth)
