"""What comparing every job with its stored state costs the `glue_jobs` store step (savings realized).

No AWS: a synthetic listing of N jobs is stored twice into a fresh database — once to create the rows, then
again with 10 % of the jobs changed (FLEX, fewer workers) and 1 % gone. The second store is timed with the
comparison (`services.inventory.store_snapshot`) and without it (the same upserts and deletions alone), in
the same run, alternating, best of `--repeat`. Prints the seconds and their ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from glue_inventory.services.inventory import InventorySnapshot, PlatformListing, store_snapshot
from glue_inventory.storage import repository
from glue_inventory.storage.db import dispose_engines, engine_for
from glue_inventory.storage.tables import remediation_events

ACCOUNT, REGION = "111122223333", "us-east-1"


def listing(jobs: int, changed: bool) -> PlatformListing:
    rows = []
    for i in range(jobs):
        if changed and i % 100 == 99:
            continue  # 1 % vanished
        flex = changed and i % 10 == 0
        rows.append({"name": f"job_{i:05d}", "partition_key": f"{ACCOUNT}/{REGION}/job_{i:05d}",
                     "job_type": "glueetl", "worker_type": "G.1X", "number_of_workers": 5 if flex else 10,
                     "max_capacity": None, "glue_version": "4.0", "execution_class": "FLEX" if flex else "STANDARD",
                     "script_location": f"s3://b/job_{i}.py", "tags": {"team": f"t{i % 7}"},
                     "default_argument_names": ["--TempDir"], "secret_argument_names": []})
    return PlatformListing(name=f"bench/{REGION}", platform_name="bench", region=REGION, account_id=ACCOUNT,
                           credentials={}, jobs=rows)


def seeded(url: str, jobs: int) -> sa.Engine:
    engine = engine_for(url)
    store_snapshot(engine, InventorySnapshot([listing(jobs, False)], datetime.now(UTC) - timedelta(days=1)))
    with engine.begin() as conn:  # the metrics the preliminary step would have written
        conn.execute(sa.text("UPDATE data_jobs SET status = 'active', metrics = :m"),
                     {"m": '{"monthly_projection_usd": 100.0}'})
    return engine


def plain_store(engine: sa.Engine, snapshot: InventorySnapshot) -> None:
    """The store step without the comparison: platform, job upserts and deletions in one transaction."""
    with repository.transaction(engine) as conn:
        for item in snapshot.listings:
            platform_id = repository.upsert_platform(conn, name=item.platform_name, platform_type="aws_glue",
                                                     account_id=ACCOUNT, region=REGION, credentials={},
                                                     synced_at=snapshot.seen_at)
            repository.upsert_jobs(conn, platform_id, item.jobs, snapshot.seen_at)
            repository.mark_deleted(conn, platform_id, {job["name"] for job in item.jobs}, snapshot.seen_at)


def measure(url_base: str, jobs: int, repeat: int) -> tuple[float, float, int]:
    best = {"with": float("inf"), "without": float("inf")}
    events = 0
    for _ in range(repeat):
        for mode in ("with", "without"):
            url = url_base.format(uuid.uuid4().hex[:8])
            engine = seeded(url, jobs)
            snapshot = InventorySnapshot([listing(jobs, True)], datetime.now(UTC))
            started = time.perf_counter()
            store_snapshot(engine, snapshot) if mode == "with" else plain_store(engine, snapshot)
            best[mode] = min(best[mode], time.perf_counter() - started)
            if mode == "with":
                with engine.connect() as conn:
                    events = conn.execute(sa.select(sa.func.count()).select_from(remediation_events)).scalar_one()
            dispose_engines()
    return best["with"], best["without"], events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="store-changes-") as folder:
        with_changes, without, events = measure(f"sqlite:///{folder}/{{}}.db", args.jobs, args.repeat)
    print(f"{args.jobs} jobs, {events} changes recorded: store with the comparison {with_changes:.2f} s, "
          f"without {without:.2f} s, ratio {with_changes / without:.2f}x")


if __name__ == "__main__":
    main()
