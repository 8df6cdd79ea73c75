"""One owner per table, column and report file, measured: each stage of a whole inventory runs alone on
Postgres, and the rows it touched (their row versions, `xmin`), the `data_jobs` columns whose values it
changed and the report files it rewrote are recorded. A table, column or file with two writing stages fails.

`analysis_runs` is shared as the contract has it: each `analysis_type` has one writer; `job_artifacts` holds
one row per job and deep-analysis asset, each written by its asset. `data_jobs` is shared
column by column: its definition from `glue_jobs`, its status and last run from `job_preliminary_metrics`,
its priority from `deep_analysis_candidates`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from glue_inventory.orchestration.assets import (
    BILLED,
    CANDIDATES,
    DEEP_ASSET_KEYS,
    GLUE_JOBS,
    PRELIMINARY,
    REMEDIATION,
    REPORT,
    RESCORE_OPS,
)
from glue_inventory.orchestration.automation.runs import RANGE_END, RANGE_START
from glue_inventory.pipeline import materialize
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.candidates import current_candidates
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import analysis_runs, data_jobs, metadata
from glue_inventory_tests.db_fixtures import fresh_postgres_database
from glue_inventory_tests.sim_fixtures import billed_estate

# Columns every write stamps; they say nothing about who owns the data.
STAMPS = {"updated_at", "created_at", "last_seen_at"}
# The tool's own state, not the inventory's data: the request rates the AWS resource learned, saved by every run
# that called AWS (aws/pacing.py).
TOOL_STATE = {"learned_rates"}


def _snapshot(url: str, reports: Path) -> dict:
    """Row versions of every table, `data_jobs` and `analysis_runs` by value, and each report file's hash."""
    versions, jobs, analyses = {}, {}, {}
    with engine_for(url).connect() as conn:
        for table in metadata.sorted_tables:
            versions[table.name] = set(conn.exec_driver_sql(f"SELECT xmin::text FROM {table.name}").scalars())  # noqa: S608
        versions.update({f"job_artifacts:{asset}": set(rows) for asset, rows in _by_asset(conn).items()})
        for row in conn.execute(sa.select(data_jobs)).mappings():
            jobs[row["id"]] = dict(row)
        for row in conn.execute(sa.select(analysis_runs.c.id, analysis_runs.c.analysis_type)).all():
            analyses[row.id] = row.analysis_type
    files = {str(path.relative_to(reports)): hashlib.sha256(path.read_bytes()).hexdigest()
             for path in reports.rglob("*") if path.is_file()} if reports.exists() else {}
    return {"versions": versions, "jobs": jobs, "analyses": analyses, "files": files}


def _by_asset(conn) -> dict[str, list[str]]:
    rows = defaultdict(list)
    for asset, version in conn.exec_driver_sql("SELECT asset, xmin::text FROM job_artifacts"):
        rows[asset].append(version)
    return rows


def _defined(value) -> bool:
    """A value a new row was given (not a column default: NULL, false, zero, empty)."""
    return value not in (None, False, 0, {}, [])


def _written(before: dict, after: dict) -> set[str]:
    """What a stage wrote: tables (`analysis_runs:<type>`, `data_jobs.<column>`) and report files."""
    written = {name for name, rows in after["versions"].items()
               if name not in ("data_jobs", "analysis_runs", "job_artifacts", *TOOL_STATE)
               and rows - before["versions"].get(name, set())}
    written |= {f"analysis_runs:{kind}" for row_id, kind in after["analyses"].items()
                if row_id not in before["analyses"]}
    for job_id, row in after["jobs"].items():
        old = before["jobs"].get(job_id)
        written |= {f"data_jobs.{column}" for column, value in row.items() if column not in STAMPS
                    and (old[column] != value if old is not None else _defined(value))}
    written |= {f"file:{path}" for path, digest in after["files"].items() if before["files"].get(path) != digest}
    return written


@pytest.fixture(scope="module")
def writers(tmp_path_factory, postgres_server) -> dict[str, set[str]]:
    """Each table, column and file → the stages that wrote it in one whole inventory (with the bill and two
    deep analyses), each stage run alone."""
    tmp_path = tmp_path_factory.mktemp("ownership")
    found: dict[str, set[str]] = defaultdict(set)
    with start_simulator(build_fleet(30, 21, datetime.now(UTC), account_id="623456789012")) as sim, \
            pytest.MonkeyPatch.context() as monkeypatch, fresh_postgres_database(postgres_server) as url:
        reports = billed_estate(sim, tmp_path, monkeypatch, url)
        with dg.DagsterInstance.ephemeral() as instance:
            def stage(name: str, keys: list, **options) -> None:
                before = _snapshot(url, reports)
                materialize(instance, keys, **options)
                for thing in _written(before, _snapshot(url, reports)):
                    found[thing].add(name)

            stage("glue_jobs", [GLUE_JOBS])
            partitions = instance.get_dynamic_partitions("glue_jobs")
            stage("job_preliminary_metrics", [PRELIMINARY],
                  tags={RANGE_START: partitions[0], RANGE_END: partitions[-1]})
            stage("glue_billed_costs", [BILLED])
            stage("deep_analysis_candidates", [CANDIDATES])
            chosen = [c["key"] for c in current_candidates(engine_for(url)) if c["deep_lane"]][:2]
            for key in chosen:
                for asset in DEEP_ASSET_KEYS:
                    stage(asset.to_user_string(), [asset], partition_key=key)
            stage("deep_analysis_candidates", [CANDIDATES], ops=RESCORE_OPS)
            stage("remediation_plans", [REMEDIATION])
            stage("executive_report", [REPORT])
    assert len(chosen) == 2
    return dict(found)


def test_every_table_column_and_report_file_has_one_writer(writers):
    shared = {thing: stages for thing, stages in writers.items() if len(stages) > 1}
    assert shared == {}


def test_each_owner_is_the_one_the_architecture_names(writers):
    assert writers["data_jobs.name"] == {"glue_jobs"}
    assert writers["data_jobs.status"] == {"job_preliminary_metrics"}
    assert writers["data_jobs.priority"] == {"deep_analysis_candidates"}
    assert writers["analysis_runs:preliminary"] == {"job_preliminary_metrics"}
    assert writers["analysis_runs:deep"] == {"job_deep_analysis"}
    assert writers["deep_analysis_candidates"] == {"deep_analysis_candidates"}
    assert writers["job_costs"] == {"glue_billed_costs"}
    assert writers["job_billed_costs"] == {"glue_billed_costs"}
    assert writers["remediation_plans"] == {"remediation_plans"}
    for name in ("candidates.csv", "candidates.json", "inventory.json", "inventory.csv", "inventory_summary.md"):
        assert writers[f"file:{name}"] == {"deep_analysis_candidates"}, name
    for name in ("executive_summary.md", "dashboard.html", "executive.json"):
        assert writers[f"file:{name}"] == {"executive_report"}, name
    assert any(thing.startswith("file:jobs/") and stages == {"job_deep_analysis"} for thing, stages in writers.items())
