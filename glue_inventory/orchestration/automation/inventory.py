"""The inventory's automation: the daily refresh chain and the partitions kept in step with the inventory.

The refresh is a chain, because new job partitions exist only once `glue_jobs` has run:
1. `inventory_refresh_schedule` (cron `schedules.refresh_cron`) materializes `glue_jobs`; on a fresh
   deployment declarative automation does it at once;
2. `inventory_refresh_sensor` sees that materialization and refreshes every live job's
   `job_preliminary_metrics` in runs of at most 5,000 partitions (runs.BATCH);
3. `inventory_follow_up_sensor` then materializes `deep_analysis_candidates`, and `remediation_plans` with
   `executive_report`, each once none of its inputs is still being computed;
4. `deep_analysis_candidate_sensor` (deep.py) requests the deep analyses the new list calls for,
   after which step 3 refreshes the report again.
`glue_job_sync_sensor` keeps the partitions in step with the inventory between refreshes.
"""

from collections.abc import Sequence

import dagster as dg

from glue_inventory.config import Settings
from glue_inventory.orchestration.assets import (
    BILLED,
    CANDIDATES,
    DEEP_ASSET_KEYS,
    GLUE_JOBS,
    PRELIMINARY,
    REMEDIATION,
    REPORT,
)
from glue_inventory.orchestration.automation.runs import (
    AUTOMATION_INTERVAL_S,
    SCHEDULE_STATUS,
    SENSOR_STATUS,
    STAGE_TAG,
    SYNC_INTERVAL_S,
    TRIGGER_TAG,
    assets_in_progress,
    latest_materialization,
    partition_ranges,
    partitions_in_progress,
    range_run,
)
from glue_inventory.orchestration.partitions import glue_jobs_partitions
from glue_inventory.orchestration.resources import InventoryDatabase
from glue_inventory.storage.jobs import live_partition_keys, partition_statuses

INVENTORY_TAGS = {STAGE_TAG: "inventory"}

# glue_jobs once on a fresh deployment (the first inventory should not wait for the cron), and never
# again after a failed attempt: the schedule retries the next day, not every tick.
FIRST_INVENTORY = (dg.AutomationCondition.missing() & ~dg.AutomationCondition.in_progress()
                   & ~dg.AutomationCondition.execution_failed()).with_label("never listed")
CONDITIONS = {GLUE_JOBS: FIRST_INVENTORY}
# What each follow-up step waits for: it runs after any of these updated, once none of them is running.
# The candidates score the deep analyses' evidence (they are downstream of it); the report follows them.
FOLLOW_UPS = {CANDIDATES: (PRELIMINARY, BILLED, DEEP_ASSET_KEYS[-1]), REPORT: (CANDIDATES,)}
# The assets each follow-up run materializes: the report is made with the remediation plans it names.
FOLLOW_UP_RUNS = {REPORT: [REMEDIATION, REPORT]}


def with_automation(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """`assets` with their automation conditions attached (CONDITIONS)."""
    def attach(spec: dg.AssetSpec) -> dg.AssetSpec:
        condition = CONDITIONS.get(spec.key)
        return spec.replace_attributes(automation_condition=condition) if condition else spec

    return [asset.map_asset_specs(attach) for asset in assets]


# Declarative automation is used where it reads the state right: glue_jobs is unpartitioned, so
# missing() and in_progress() see it exactly. It is not used for the partitioned steps:
# - the preliminary refresh: Dagster 1.13's automation sensor either emits a backfill, sized by the
#   asset's backfill policy (single-run: one run for the whole fleet), or one run per partition;
# - candidates and the report: with DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS=true (set in
#   glue_inventory/__init__.py) a range run's planned partitions are one event without partition keys,
#   so in_progress() cannot see a refresh batch still running and "after upstream" would fire after
#   the first of many batches. The sensors below read run records instead.
inventory_automation_sensor = dg.AutomationConditionSensorDefinition(
    "inventory_automation_sensor", target=dg.AssetSelection.keys(*CONDITIONS),
    default_status=SENSOR_STATUS, minimum_interval_seconds=AUTOMATION_INTERVAL_S,
    run_tags={TRIGGER_TAG: "automation"})


@dg.sensor(minimum_interval_seconds=SYNC_INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING,
           asset_selection=[PRELIMINARY])
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


@dg.sensor(minimum_interval_seconds=AUTOMATION_INTERVAL_S, default_status=SENSOR_STATUS,
           asset_selection=[PRELIMINARY])
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


@dg.sensor(minimum_interval_seconds=AUTOMATION_INTERVAL_S, default_status=SENSOR_STATUS,
           asset_selection=[*FOLLOW_UPS, REMEDIATION])
def inventory_follow_up_sensor(context: dg.SensorEvaluationContext):
    """Materializes deep_analysis_candidates after preliminary metrics, the bill or a deep analysis changed,
    and executive_report after the candidate list changed, each once none of its inputs is being computed."""
    busy = assets_in_progress(context.instance)
    requests, waiting = [], []
    for target, inputs in FOLLOW_UPS.items():
        latest = [record.storage_id for key in inputs if (record := latest_materialization(context.instance, key))]
        own = latest_materialization(context.instance, target)
        if not latest or (own is not None and own.storage_id > max(latest)):
            continue
        if busy & {target, *inputs, *FOLLOW_UP_RUNS.get(target, [])}:
            waiting.append(target.to_user_string())
            continue
        # One request per upstream state: the run key stops a failed step from being retried every tick.
        requests.append(dg.RunRequest(run_key=f"{target.to_user_string()}-after-{max(latest)}",
                                      asset_selection=FOLLOW_UP_RUNS.get(target, [target]),
                                      run_config=_follow_up_config(context.instance, target, own),
                                      tags={TRIGGER_TAG: "follow-up"}))
    if not requests:
        return dg.SkipReason(f"waiting for running inputs of {', '.join(waiting)}" if waiting else "up to date")
    return requests


def _follow_up_config(instance: dg.DagsterInstance, target: dg.AssetKey, own) -> dict:
    """The candidates' run after deep analyses alone (no new inventory or bill since the list) scores their
    evidence and keeps the lanes that chose them (`keep_lanes`)."""
    if target != CANDIDATES or own is None:
        return {}
    newer = [key for key in FOLLOW_UPS[CANDIDATES]
             if (record := latest_materialization(instance, key)) and record.storage_id > own.storage_id]
    if newer != [DEEP_ASSET_KEYS[-1]]:
        return {}
    return {"ops": {CANDIDATES.to_python_identifier(): {"config": {"keep_lanes": True}}}}


def _on_refresh_cron(settings: Settings, name: str, key: dg.AssetKey, description: str) -> dg.ScheduleDefinition:
    crons = settings.schedules
    return dg.ScheduleDefinition(
        name=name, cron_schedule=crons.refresh_cron, execution_timezone=crons.timezone,
        target=dg.AssetSelection.keys(key), tags=INVENTORY_TAGS | {TRIGGER_TAG: "schedule"},
        default_status=SCHEDULE_STATUS, description=description)


def refresh_schedule(settings: Settings) -> dg.ScheduleDefinition:
    return _on_refresh_cron(settings, "inventory_refresh_schedule", GLUE_JOBS,
                            "Lists every Glue job; the refresh sensor and declarative automation do the rest.")


def billing_schedule(settings: Settings) -> dg.ScheduleDefinition:
    return _on_refresh_cron(settings, "billing_refresh_schedule", BILLED,
                            "Reads the Cost and Usage Report (the export is restated daily); the candidates follow.")


inventory_sensors = [glue_job_sync_sensor, inventory_refresh_sensor, inventory_automation_sensor,
                     inventory_follow_up_sensor]
