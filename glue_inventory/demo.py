"""`make demo`: the whole pipeline on a simulated fleet, into SQLite under `.glue_inventory/`."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from glue_inventory.partitions import glue_jobs_partitions
from glue_inventory.sensors import RANGE_END, RANGE_START, contiguous_batches

# Dagster reads these when it plans a run and writes its events; on Postgres storage they make
# per-partition bookkeeping ~50× cheaper (see docs/SCALING.md).
DAGSTER_SPEED_ENV = {"DAGSTER_EVENT_BATCH_SIZE": "1000", "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true"}


DEEP_ASSETS = ["job_cloudwatch_metrics", "job_script", "job_code_analysis", "job_ai_review", "job_deep_analysis"]
# The demo analyses the ten highest-scoring candidates in depth; deployments use the sensor's top K.
DEMO_DEEP_JOBS = 10


class DemoError(RuntimeError):
    """The demo cannot start; the message says why and what to do."""


def demo_environment(home: str) -> dict[str, str]:
    root = Path(home).resolve()
    return {
        "GLUE_INVENTORY_DATABASE_URL": f"sqlite:///{root / 'inventory.db'}",
        "GLUE_INVENTORY_REPORTS_DIR": str(root / "reports"),
        "DAGSTER_HOME": str(root / "dagster_home"),
        # Browsing the demo data must not start refreshes against whatever AWS the shell points at.
        "GLUE_INVENTORY_AUTOMATION": "off",
        **DAGSTER_SPEED_ENV,
    }


def _prepare_home(home: str) -> None:
    root = Path(home)
    try:
        (root / "dagster_home").mkdir(parents=True, exist_ok=True)
        instance_config = root / "dagster_home" / "dagster.yaml"
        if not instance_config.exists():
            instance_config.write_text("telemetry:\n  enabled: false\n")
        probe = root / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise DemoError(f"cannot write to {root}/ ({exc.strerror}) — make it writable or pass --home DIR") from None


def _set(values: dict[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@contextmanager
def environment(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or, for None, unset) environment variables for the block; restore them afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        _set(values)
        yield
    finally:
        _set(saved)


def materialize(instance: dg.DagsterInstance, keys: list[str], tags: dict[str, str] | None = None,
                partition_key: str | None = None) -> None:
    from glue_inventory.definitions import defs

    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=instance, asset_selection=[dg.AssetKey(k) for k in keys],
                                    tags=tags or {}, partition_key=partition_key, raise_on_error=False,
                                    run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}})
    if not result.success:
        raise DemoError(f"materializing {', '.join(keys)} failed: see {instance.root_directory}")


def top_candidates(limit: int) -> list[str]:
    """Partition keys of the current candidates with the highest scores."""
    import sqlalchemy as sa

    from glue_inventory.storage.db import engine_for
    from glue_inventory.storage.tables import data_jobs, deep_analysis_candidates

    query = (sa.select(data_jobs.c.partition_key)
             .join(deep_analysis_candidates, deep_analysis_candidates.c.data_job_id == data_jobs.c.id)
             .where(deep_analysis_candidates.c.is_current)
             .order_by(deep_analysis_candidates.c.score.desc(), data_jobs.c.partition_key).limit(limit))
    with engine_for().connect() as conn:
        return list(conn.execute(query).scalars())


def run_pipeline(instance: dg.DagsterInstance, log=print, deep_jobs: int = 0) -> None:
    """glue_jobs → preliminary metrics over every partition (batched) → candidates → deep analysis of
    the top `deep_jobs` candidates → executive report."""
    started = time.monotonic()
    materialize(instance, ["glue_jobs"])
    keys = instance.get_dynamic_partitions(glue_jobs_partitions.name)
    log(f"glue_jobs: {len(keys)} jobs ({time.monotonic() - started:.1f}s)")
    for start, end in contiguous_batches(keys, set(keys)):
        materialize(instance, ["job_preliminary_metrics"], {RANGE_START: start, RANGE_END: end})
    log(f"job_preliminary_metrics: {len(keys)} partitions ({time.monotonic() - started:.1f}s)")
    materialize(instance, ["deep_analysis_candidates"])
    log(f"deep_analysis_candidates ({time.monotonic() - started:.1f}s)")
    chosen = top_candidates(deep_jobs)
    for key in chosen:
        materialize(instance, DEEP_ASSETS, partition_key=key)
    log(f"deep analysis of the top {len(chosen)} candidates ({time.monotonic() - started:.1f}s)")
    materialize(instance, ["executive_report"])
    log(f"executive_report ({time.monotonic() - started:.1f}s)")


def run_demo(jobs: int, seed: int, home: str) -> int:
    from glue_inventory.simulate import build_fleet, start_simulator

    if jobs < 1:
        raise DemoError(f"--jobs must be at least 1, got {jobs}")
    _prepare_home(home)
    env = demo_environment(home)
    fleet = build_fleet(jobs=jobs, seed=seed, now=datetime.now(UTC))
    # The simulated company runs jobs in several regions: the demo's config lists them all.
    config = Path(home) / "config.yaml"
    config.write_text(f"platforms:\n  - name: demo\n    regions: [{', '.join(fleet.regions)}]\n")
    env["GLUE_INVENTORY_CONFIG"] = str(config.resolve())
    with start_simulator(fleet) as sim, environment(env | {
        "AWS_ENDPOINT_URL": sim.endpoint_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
    }):
        print(f"simulated fleet: {jobs} jobs (seed {seed}) at {sim.endpoint_url}")
        os.environ.pop("AWS_PROFILE", None)
        with dg.DagsterInstance.get() as instance:
            run_pipeline(instance, deep_jobs=DEMO_DEEP_JOBS)
        print_summary(env)
    return 0


def print_summary(env: dict[str, str]) -> None:
    import sqlalchemy as sa

    from glue_inventory.storage.db import engine_for
    from glue_inventory.storage.tables import data_jobs, deep_analysis_candidates

    engine = engine_for(env["GLUE_INVENTORY_DATABASE_URL"])
    with engine.connect() as conn:
        statuses = dict(conn.execute(sa.select(data_jobs.c.status, sa.func.count()).group_by(data_jobs.c.status)).all())
        candidates = conn.execute(sa.select(sa.func.count(), sa.func.sum(
            deep_analysis_candidates.c.estimated_monthly_savings_usd)).where(
            deep_analysis_candidates.c.is_current)).one()
    print("jobs by status: " + ", ".join(f"{k}={v}" for k, v in sorted(statuses.items(), key=str)))
    print(f"deep-analysis candidates: {candidates[0]}, estimated savings ${candidates[1] or 0:,.2f}/month")
    reports = Path(env["GLUE_INVENTORY_REPORTS_DIR"])
    for name in ("inventory.json", "inventory.csv", "candidates.json", "candidates.csv", "inventory_summary.md",
                 "executive_summary.md", "dashboard.html", "executive.json"):
        if (reports / name).exists():
            print(f"report: {reports / name}")
