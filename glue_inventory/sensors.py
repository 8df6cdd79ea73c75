"""Sensors: keep the `glue_jobs` partitions in step with the inventory and analyse new jobs in batches."""


import hashlib
import os

import dagster as dg
import sqlalchemy as sa

from glue_inventory.partitions import glue_jobs_partitions
from glue_inventory.resources import InventoryDatabase
from glue_inventory.storage.tables import data_jobs

# A run covers a contiguous range of partitions. Each run pays a fixed start: the run itself, new AWS
# clients whose adaptive rate limiter learns the API's limit again (a burst, throttles, a slow climb back).
# Measured behind a 50 requests/s limit (bench/scale.py, 1,000 jobs): two runs of 500 took 33.1 s, one run
# 30.4 s, against a 24.0 s bound. 2,000 jobs a run keep that start under ~5 % of a run.
BATCH = 2000
SYNC_INTERVAL_S = int(os.environ.get("GLUE_INVENTORY_SYNC_INTERVAL_S", "300"))
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
PRELIMINARY = dg.AssetKey("job_preliminary_metrics")
IN_PROGRESS = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED]


def contiguous_batches(ordered_keys: list[str], wanted: set[str], batch: int = BATCH) -> list[tuple[str, str]]:
    """Ranges over `ordered_keys` covering every wanted key, each at most `batch` keys long.

    A range may include keys that are not wanted: re-reading a job costs one API call, a run costs
    seconds of orchestration, so few wide runs beat many narrow ones.
    """
    positions = [i for i, key in enumerate(ordered_keys) if key in wanted]
    ranges = []
    while positions:
        first = positions[0]
        inside = [p for p in positions if p < first + batch]
        ranges.append((ordered_keys[first], ordered_keys[inside[-1]]))
        positions = positions[len(inside):]
    return ranges


def partitions_in_progress(instance: dg.DagsterInstance, asset_key: dg.AssetKey, ordered_keys: list[str]) -> set[str]:
    """Partitions of `asset_key` in runs queued or running now: requesting them again would do the work twice."""
    position = {key: index for index, key in enumerate(ordered_keys)}
    busy: set[str] = set()
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        if asset_key not in (run.asset_selection or ()):
            continue
        tags = run.tags
        if "dagster/partition" in tags:
            busy.add(tags["dagster/partition"])
        elif tags.get(RANGE_START) in position and tags.get(RANGE_END) in position:
            busy.update(ordered_keys[position[tags[RANGE_START]]:position[tags[RANGE_END]] + 1])
    return busy


def range_request(asset_key: dg.AssetKey, start: str, end: str, reason: str) -> dg.RunRequest:
    digest = hashlib.sha256(f"{reason}:{start}:{end}".encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"{reason}-{digest}", asset_selection=[asset_key],
                         tags={RANGE_START: start, RANGE_END: end})


@dg.sensor(minimum_interval_seconds=SYNC_INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING,
           asset_selection=[dg.AssetKey("job_preliminary_metrics")])
def glue_job_sync_sensor(context: dg.SensorEvaluationContext, inventory_db: InventoryDatabase):
    """Adds partitions for jobs the inventory found, deletes those of vanished jobs, and requests
    preliminary metrics for jobs that have none yet, in a few batched runs."""
    with inventory_db.engine().connect() as conn:
        rows = conn.execute(sa.select(data_jobs.c.partition_key, data_jobs.c.status)).all()
    live = {key for key, status in rows if status != "deleted"}
    unanalysed = {key for key, status in rows if status is None}
    existing = context.instance.get_dynamic_partitions(glue_jobs_partitions.name)
    existing_set = set(existing)
    added = sorted(live - existing_set)
    deleted = sorted(existing_set - live)
    ordered = [key for key in existing if key in live] + added
    # Jobs a running refresh already covers are left to it.
    busy = partitions_in_progress(context.instance, PRELIMINARY, ordered)
    requests = [range_request(PRELIMINARY, start, end, "new-jobs")
                for start, end in contiguous_batches(ordered, unanalysed - busy)]
    partition_requests = []
    if added:
        partition_requests.append(glue_jobs_partitions.build_add_request(added))
    if deleted:
        partition_requests.append(glue_jobs_partitions.build_delete_request(deleted))
    if not requests and not partition_requests:
        return dg.SkipReason(f"{len(live)} jobs, partitions in step, every job analysed")
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=partition_requests)
