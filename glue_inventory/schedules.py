"""The daily inventory refresh and the weekly deep analysis.

The refresh is a chain, because new job partitions exist only once `glue_jobs` has run:
1. `inventory_refresh_schedule` (cron `schedules.refresh_cron`) materializes `glue_jobs`; on a fresh
   deployment declarative automation does it at once;
2. `inventory_refresh_sensor` sees that materialization and refreshes every live job's
   `job_preliminary_metrics` in runs of at most 2,000 partitions (sensors.BATCH);
3. `inventory_follow_up_sensor` then materializes `deep_analysis_candidates`, and `executive_report`,
   each once none of its inputs is still being computed;
4. `deep_analysis_candidate_sensor` (automation.py) requests the deep analyses the new list calls for,
   after which step 3 refreshes the report again.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa

from glue_inventory.automation import (
    AUTOMATION_INTERVAL_S,
    CANDIDATES,
    DEEP_ASSET_KEYS,
    SCHEDULE_STATUS,
    SENSOR_STATUS,
    STAGE_TAG,
    TRIGGER_TAG,
    deep_requests,
    latest_materialization,
    load_chosen,
    range_run,
)
from glue_inventory.config import ConfigError, Settings, load_settings
from glue_inventory.partitions import glue_jobs_partitions
from glue_inventory.resources import GlueInventoryConfig, InventoryDatabase
from glue_inventory.sensors import IN_PROGRESS, contiguous_batches, partitions_in_progress
from glue_inventory.storage.tables import data_jobs

GLUE_JOBS = dg.AssetKey("glue_jobs")
PRELIMINARY = dg.AssetKey("job_preliminary_metrics")
REPORT = dg.AssetKey("executive_report")

# glue_jobs once on a fresh deployment (the first inventory should not wait for the cron), and never
# again after a failed attempt: the schedule retries the next day, not every tick.
FIRST_INVENTORY = (dg.AutomationCondition.missing() & ~dg.AutomationCondition.in_progress()
                   & ~dg.AutomationCondition.execution_failed()).with_label("never listed")
CONDITIONS = {GLUE_JOBS: FIRST_INVENTORY}
# What each follow-up step waits for: it runs after any of these updated, once none of them is running.
FOLLOW_UPS = {CANDIDATES: (PRELIMINARY,), REPORT: (CANDIDATES, DEEP_ASSET_KEYS[-1])}


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


def _live_keys(inventory_db: InventoryDatabase) -> set[str]:
    with inventory_db.engine().connect() as conn:
        return set(conn.execute(sa.select(data_jobs.c.partition_key).where(
            sa.or_(data_jobs.c.status.is_(None), data_jobs.c.status != "deleted"))).scalars())


@dg.sensor(minimum_interval_seconds=AUTOMATION_INTERVAL_S, default_status=SENSOR_STATUS,
           asset_selection=[PRELIMINARY])
def inventory_refresh_sensor(context: dg.SensorEvaluationContext, inventory_db: InventoryDatabase):
    """After each materialization of glue_jobs, refreshes every live job's preliminary metrics in runs
    of at most 2,000 partitions (jobs already in a running refresh are left to it)."""
    latest = latest_materialization(context.instance, GLUE_JOBS)
    if latest is None:
        return dg.SkipReason("glue_jobs has not been materialized yet")
    if context.cursor and int(context.cursor) >= latest.storage_id:
        return dg.SkipReason("no new job list since the last refresh")
    live = _live_keys(inventory_db)
    ordered = [key for key in context.instance.get_dynamic_partitions(glue_jobs_partitions.name) if key in live]
    wanted = set(ordered) - partitions_in_progress(context.instance, PRELIMINARY, ordered)
    tags = {STAGE_TAG: "inventory", TRIGGER_TAG: "refresh"}
    requests = [range_run([PRELIMINARY], start, end, f"refresh-{latest.storage_id}", tags)
                for start, end in contiguous_batches(ordered, wanted)]
    context.log.info(f"refreshing {len(wanted)} of {len(ordered)} live jobs in {len(requests)} runs")
    return dg.SensorResult(run_requests=requests, cursor=str(latest.storage_id))


def assets_in_progress(instance: dg.DagsterInstance) -> set[dg.AssetKey]:
    """Assets selected by a run queued or running now."""
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS))
    return {key for run in runs for key in run.asset_selection or ()}


@dg.sensor(minimum_interval_seconds=AUTOMATION_INTERVAL_S, default_status=SENSOR_STATUS,
           asset_selection=list(FOLLOW_UPS))
def inventory_follow_up_sensor(context: dg.SensorEvaluationContext):
    """Materializes deep_analysis_candidates after preliminary metrics changed, and executive_report after
    the candidate list or a deep analysis changed, each once none of its inputs is being computed."""
    busy = assets_in_progress(context.instance)
    requests, waiting = [], []
    for target, inputs in FOLLOW_UPS.items():
        latest = [record.storage_id for key in inputs if (record := latest_materialization(context.instance, key))]
        own = latest_materialization(context.instance, target)
        if not latest or (own is not None and own.storage_id > max(latest)):
            continue
        if busy & {target, *inputs}:
            waiting.append(target.to_user_string())
            continue
        # One request per upstream state: the run key stops a failed step from being retried every tick.
        requests.append(dg.RunRequest(run_key=f"{target.to_user_string()}-after-{max(latest)}",
                                      asset_selection=[target], tags={TRIGGER_TAG: "follow-up"}))
    if not requests:
        return dg.SkipReason(f"waiting for running inputs of {', '.join(waiting)}" if waiting else "up to date")
    return requests


def _checked(build: Callable[[], dg.ScheduleDefinition], key: str) -> dg.ScheduleDefinition:
    try:
        return build()
    except dg.DagsterInvalidDefinitionError as exc:
        raise ConfigError(f"GLUE_INVENTORY_CONFIG: schedules.{key} or schedules.timezone: {exc} — a cron "
                          "string has five fields ('0 6 * * *'), a timezone is an IANA name ('UTC')") from None


def build_schedules(settings: Settings | None = None) -> list[dg.ScheduleDefinition]:
    """The refresh and weekly deep-analysis schedules, on the cron strings of the settings."""
    settings = settings or load_settings()
    crons = settings.schedules

    def refresh() -> dg.ScheduleDefinition:
        return dg.ScheduleDefinition(
            name="inventory_refresh_schedule", cron_schedule=crons.refresh_cron,
            execution_timezone=crons.timezone, target=dg.AssetSelection.keys(GLUE_JOBS),
            tags={STAGE_TAG: "inventory", TRIGGER_TAG: "schedule"}, default_status=SCHEDULE_STATUS,
            description="Lists every Glue job; the refresh sensor and declarative automation do the rest.")

    def weekly() -> dg.ScheduleDefinition:
        @dg.schedule(name="deep_analysis_weekly_schedule", cron_schedule=crons.deep_analysis_cron,
                     execution_timezone=crons.timezone, target=dg.AssetSelection.keys(*DEEP_ASSET_KEYS),
                     default_status=SCHEDULE_STATUS)
        def deep_analysis_weekly_schedule(context: dg.ScheduleEvaluationContext, config: GlueInventoryConfig,
                                          inventory_db: InventoryDatabase):
            """Deep analysis of the current top candidates and opted-in jobs, changed or not: CloudWatch
            metrics and the LLM's view move even when the job does not."""
            with inventory_db.engine().connect() as conn:
                plan = {job.key: "weekly" for job in load_chosen(conn, config.settings.deep_analysis.top_k)}
            week = (context.scheduled_execution_time or datetime.now(UTC)).strftime("%Y-%m-%d")
            requests = deep_requests(context.instance, plan, f"weekly-{week}", "weekly")
            return requests or dg.SkipReason(f"{len(plan)} jobs chosen, none to analyse now")

        return deep_analysis_weekly_schedule

    return [_checked(refresh, "refresh_cron"), _checked(weekly, "deep_analysis_cron")]
