"""The inventory's automation: the daily refresh chain and the partitions kept in step with the inventory.

The order is the asset graph's (stages.py); the refresh is a chain, because new job partitions exist only once
`glue_jobs` has run:
1. `inventory_refresh_schedule` (cron `schedules.refresh_cron`) materializes `glue_jobs`; on a fresh
   deployment declarative automation does it at once;
2. `inventory_refresh_sensor` sees that materialization and refreshes every live job's
   `job_preliminary_metrics` in runs of at most 5,000 partitions (runs.BATCH);
3. `inventory_follow_up_sensor` then materializes each unpartitioned stage that reads partitioned assets
   (`deep_analysis_candidates`; `remediation_plans` with `executive_report`) once none of its inputs is still
   being computed;
4. `deep_analysis_candidate_sensor` (deep.py) requests the deep analyses the new list calls for,
   after which step 3 refreshes the report again.
`glue_job_sync_sensor` keeps the partitions in step with the inventory between refreshes.
"""

from collections.abc import Sequence

import dagster as dg

from glue_inventory.config import Settings
from glue_inventory.orchestration.assets import BILLED, GLUE_JOBS, PRELIMINARY, RESCORE_OPS
from glue_inventory.orchestration.automation.runs import (
    STAGE_TAG,
    TRIGGER_TAG,
    assets_in_progress,
    latest_materialization,
    partition_ranges,
    partitions_in_progress,
    range_run,
    schedule_status,
    sensor_status,
)
from glue_inventory.orchestration.automation.stages import Stage, stages
from glue_inventory.orchestration.partitions import glue_jobs_partitions
from glue_inventory.orchestration.resources import InventoryDatabase
from glue_inventory.storage.jobs import live_partition_keys, partition_statuses

INVENTORY_TAGS = {STAGE_TAG: "inventory"}

# glue_jobs once on a fresh deployment (the first inventory should not wait for the cron), and never
# again after a failed attempt: the schedule retries the next day, not every tick.
FIRST_INVENTORY = (dg.AutomationCondition.missing() & ~dg.AutomationCondition.in_progress()
                   & ~dg.AutomationCondition.execution_failed()).with_label("never listed")
CONDITIONS = {GLUE_JOBS: FIRST_INVENTORY}


def follow_ups() -> list[Stage]:
    """The unpartitioned stages that read partitioned assets: each runs after any of its inputs updated, once
    none of them is running (the report with the remediation plans it names, in one run)."""
    return [stage for stage in stages() if stage.follows_partitions]


def with_automation(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """`assets` with their automation conditions attached (CONDITIONS)."""
    def attach(spec: dg.AssetSpec) -> dg.AssetSpec:
        condition = CONDITIONS.get(spec.key)
        return spec.replace_attributes(automation_condition=condition) if condition else spec

    return [asset.map_asset_specs(attach) for asset in assets]


# Declarative automation is used where it reads the state right: glue_jobs is unpartitioned, so
# missing() and in_progress() see it exactly. The other steps are sensors because a condition cannot:
# - size the preliminary refresh's runs: Dagster 1.13's automation sensor either emits a backfill, sized by the
#   asset's backfill policy (single-run: one run for the whole fleet), or one run per partition;
# - add or delete partitions (the sync sensor);
# - wait for the batches before a follow-up cheaply: with DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS=true a
#   range run's planned partitions are one event without partition keys, so in_progress() misses a queued batch
#   and the condition fires after the first of many; without it, queuing a 1,000-job run took 118x as long and
#   running it 20x (bench/automation.py, docs/automation.md). The follow-up sensor reads run records instead.
def automation_sensor(settings: Settings) -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "inventory_automation_sensor", target=dg.AssetSelection.keys(*CONDITIONS),
        default_status=sensor_status(settings), minimum_interval_seconds=settings.environment.automation_interval_s,
        run_tags={TRIGGER_TAG: "automation"})


def glue_job_sync_sensor(context: dg.SensorEvaluationContext, inventory_db: InventoryDatabase):
    """Adds partitions for jobs the inventory found, deletes those of vanished jobs, and requests
    preliminary metrics for jobs that have none yet, in a few batched runs."""
    rows = partition_statuses(inventory_db.engine())
    live = {key for key, status in rows if status != "deleted"}
    unanalysed = {key for key, status in rows if status is None}
    existing = context.instance.get_dynamic_partitions(glue_jobs_partitions.name)
    existing_set = set(existing)
    added = sorted(live - existing_set)
    deleted = sorted(existing_set - live)
    ordered = [key for key in existing if key in live] + added
    # Jobs a running refresh already covers are left to it.
    busy = partitions_in_progress(context.instance, PRELIMINARY, ordered)
    tags = INVENTORY_TAGS | {TRIGGER_TAG: "new-jobs"}
    requests = [range_run([PRELIMINARY], start, end, "new-jobs", tags)
                for start, end in partition_ranges(ordered, unanalysed - busy)]
    partition_requests = []
    if added:
        partition_requests.append(glue_jobs_partitions.build_add_request(added))
    if deleted:
        partition_requests.append(glue_jobs_partitions.build_delete_request(deleted))
    if not requests and not partition_requests:
        return dg.SkipReason(f"{len(live)} jobs, partitions in step, every job analysed")
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=partition_requests)


def inventory_refresh_sensor(context: dg.SensorEvaluationContext, inventory_db: InventoryDatabase):
    """After each materialization of glue_jobs, refreshes every live job's preliminary metrics in runs
    of at most 5,000 partitions (jobs already in a running refresh are left to it)."""
    latest = latest_materialization(context.instance, GLUE_JOBS)
    if latest is None:
        return dg.SkipReason("glue_jobs has not been materialized yet")
    if context.cursor and int(context.cursor) >= latest.storage_id:
        return dg.SkipReason("no new job list since the last refresh")
    live = live_partition_keys(inventory_db.engine())
    ordered = [key for key in context.instance.get_dynamic_partitions(glue_jobs_partitions.name) if key in live]
    wanted = set(ordered) - partitions_in_progress(context.instance, PRELIMINARY, ordered)
    tags = INVENTORY_TAGS | {TRIGGER_TAG: "refresh"}
    requests = [range_run([PRELIMINARY], start, end, f"refresh-{latest.storage_id}", tags)
                for start, end in partition_ranges(ordered, wanted)]
    context.log.info(f"refreshing {len(wanted)} of {len(ordered)} live jobs in {len(requests)} runs")
    return dg.SensorResult(run_requests=requests, cursor=str(latest.storage_id))


def inventory_follow_up_sensor(context: dg.SensorEvaluationContext):
    """Materializes deep_analysis_candidates after preliminary metrics or the bill changed, and again after a
    deep analysis (to score its evidence, keeping the lanes), then remediation_plans with executive_report after
    the candidate list changed, each once none of its inputs is being computed or about to be."""
    busy = assets_in_progress(context.instance)
    requests: list[dg.RunRequest] = []
    waiting: list[str] = []
    due: set[dg.AssetKey] = set()
    for stage in follow_ups():
        target = stage.keys[-1]
        triggers = {*stage.inputs, *([stage.rescores_after] if stage.rescores_after else [])}
        latest = [record.storage_id for key in triggers
                  if (record := latest_materialization(context.instance, key))]
        own = latest_materialization(context.instance, target)
        if not latest or (own is not None and own.storage_id > max(latest)):
            continue
        if busy & {*stage.keys, *triggers} or due & stage.inputs:  # an input is running or requested now
            waiting.append(target.to_user_string())
            continue
        due.update(stage.keys)
        # One request per upstream state: the run key stops a failed step from being retried every tick.
        requests.append(dg.RunRequest(run_key=f"{target.to_user_string()}-after-{max(latest)}",
                                      asset_selection=list(stage.keys),
                                      run_config=_follow_up_config(context.instance, stage, own),
                                      tags={TRIGGER_TAG: "follow-up"}))
    if not requests:
        return dg.SkipReason(f"waiting for running inputs of {', '.join(waiting)}" if waiting else "up to date")
    return requests


def _follow_up_config(instance: dg.DagsterInstance, stage: Stage, own) -> dict:
    """The candidates' run after deep analyses alone (no new inventory or bill since the list) scores their
    evidence and keeps the lanes that chose them (`keep_lanes`)."""
    if stage.rescores_after is None or own is None:
        return {}
    newer = [key for key in (*stage.inputs, stage.rescores_after)
             if (record := latest_materialization(instance, key)) and record.storage_id > own.storage_id]
    if newer != [stage.rescores_after]:
        return {}
    return {"ops": RESCORE_OPS}


def _on_refresh_cron(settings: Settings, name: str, key: dg.AssetKey, description: str) -> dg.ScheduleDefinition:
    crons = settings.schedules
    return dg.ScheduleDefinition(
        name=name, cron_schedule=crons.refresh_cron, execution_timezone=crons.timezone,
        target=dg.AssetSelection.keys(key), tags=INVENTORY_TAGS | {TRIGGER_TAG: "schedule"},
        default_status=schedule_status(settings), description=description)


def refresh_schedule(settings: Settings) -> dg.ScheduleDefinition:
    return _on_refresh_cron(settings, "inventory_refresh_schedule", GLUE_JOBS,
                            "Lists every Glue job; the refresh sensor and declarative automation do the rest.")


def billing_schedule(settings: Settings) -> dg.ScheduleDefinition:
    return _on_refresh_cron(settings, "billing_refresh_schedule", BILLED,
                            "Reads the Cost and Usage Report (the export is restated daily); the candidates follow.")


def inventory_sensors(settings: Settings) -> list[dg.SensorDefinition]:
    """The sensors of the refresh chain, started or stopped by `GLUE_INVENTORY_AUTOMATION`, on the intervals of
    `GLUE_INVENTORY_AUTOMATION_INTERVAL_S` (`GLUE_INVENTORY_SYNC_INTERVAL_S` for the partition sync)."""
    status, interval = sensor_status(settings), settings.environment.automation_interval_s
    follow_up_keys = [key for stage in follow_ups() for key in stage.keys]
    return [
        dg.sensor(minimum_interval_seconds=settings.environment.sync_interval_s, default_status=status,
                  asset_selection=[PRELIMINARY])(glue_job_sync_sensor),
        dg.sensor(minimum_interval_seconds=interval, default_status=status,
                  asset_selection=[PRELIMINARY])(inventory_refresh_sensor),
        automation_sensor(settings),
        dg.sensor(minimum_interval_seconds=interval, default_status=status,
                  asset_selection=follow_up_keys)(inventory_follow_up_sensor),
    ]
