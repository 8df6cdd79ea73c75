"""What every sensor and schedule shares: the automation switch, run tags, the range batcher, the
run-request builder, and what is running now."""

import hashlib

import dagster as dg

from glue_inventory.config import Settings


def sensor_status(settings: Settings) -> dg.DefaultSensorStatus:
    """RUNNING unless `GLUE_INVENTORY_AUTOMATION=off`: every sensor of the code location starts with this."""
    return dg.DefaultSensorStatus.RUNNING if settings.environment.automation_on else dg.DefaultSensorStatus.STOPPED


def schedule_status(settings: Settings) -> dg.DefaultScheduleStatus:
    """RUNNING unless `GLUE_INVENTORY_AUTOMATION=off`: every schedule of the code location starts with this."""
    return (dg.DefaultScheduleStatus.RUNNING if settings.environment.automation_on
            else dg.DefaultScheduleStatus.STOPPED)


# dagster.yaml caps concurrent runs by this tag (deep_analysis: 2 at a time).
STAGE_TAG = "glue-inventory/stage"
TRIGGER_TAG = "glue-inventory/trigger"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
IN_PROGRESS = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED]

# A run covers a contiguous range of partitions. Each run pays a fixed start and end: the run itself, new
# AWS clients (their limiter starts from the rate learned and stored by earlier runs, aws/pacing.py), the
# pool's tail, one event per partition. Measured behind a 50 requests/s limit (bench/scale.py):
# 1,000 jobs in two runs of 500 took 33.1 s, in one run 30.4 s (24.0 s bound); 5,000 jobs paced, in runs of
# 2,000, 118.6 s, in one run 116.1 s (110.6 s bound). Pacing is per process: runs side by side would each
# take a platform's whole rate, so fewer, larger runs. A run's memory does not grow with its size.
BATCH = 5000
# Deep analysis is expensive per job: 50 jobs a run keeps one run's failure small.
DEEP_BATCH = 50


def partition_ranges(ordered_keys: list[str], wanted: set[str], batch: int = BATCH,
                     exact: bool = False) -> list[tuple[str, str]]:
    """Ranges over `ordered_keys` covering every wanted key, each at most `batch` keys long.

    By default a range may include keys that are not wanted: re-reading a job costs one API call, a run
    costs seconds of orchestration, so few wide runs beat many narrow ones. With `exact` a range never
    includes a key not wanted (a deep analysis of a job is too expensive to do for nothing).
    """
    ranges: list[tuple[str, str]] = []
    first = last = None
    for index, key in enumerate(ordered_keys):
        if key not in wanted:
            if exact and first is not None:
                ranges.append((ordered_keys[first], ordered_keys[last]))
                first = None
            continue
        if first is not None and index - first >= batch:
            ranges.append((ordered_keys[first], ordered_keys[last]))
            first = None
        if first is None:
            first = index
        last = index
    if first is not None:
        ranges.append((ordered_keys[first], ordered_keys[last]))
    return ranges


def range_run(asset_keys: list[dg.AssetKey], start: str, end: str, run_key: str,
              tags: dict[str, str]) -> dg.RunRequest:
    """One run over the partition range start..end; the run key makes a repeated request a no-op."""
    digest = hashlib.sha256(f"{start}\0{end}".encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"{run_key}-{digest}", asset_selection=asset_keys,
                         tags={**tags, RANGE_START: start, RANGE_END: end})


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


def assets_in_progress(instance: dg.DagsterInstance) -> set[dg.AssetKey]:
    """Assets selected by a run queued or running now."""
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS))
    return {key for run in runs for key in run.asset_selection or ()}


def latest_materialization(instance: dg.DagsterInstance, key: dg.AssetKey) -> dg.EventLogRecord | None:
    """The newest materialization of `key`; its storage id orders it against a sensor's cursor."""
    records = instance.fetch_materializations(key, limit=1).records
    return records[0] if records else None
