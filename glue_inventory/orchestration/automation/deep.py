"""The deep analysis' automation: after each candidate list, and weekly, for the chosen jobs.

Which jobs are chosen and when one needs a new analysis: analysis/deep_selection.py.
"""

import json
from datetime import UTC, datetime

import dagster as dg

from glue_inventory.config import Settings
from glue_inventory.orchestration.assets import CANDIDATES, DEEP_ASSET_KEYS
from glue_inventory.orchestration.automation.runs import (
    DEEP_BATCH,
    STAGE_TAG,
    TRIGGER_TAG,
    latest_materialization,
    partition_ranges,
    partitions_in_progress,
    range_run,
    schedule_status,
    sensor_status,
)
from glue_inventory.orchestration.partitions import glue_jobs_partitions
from glue_inventory.orchestration.resources import InventoryDatabase
from glue_inventory.services.deep_selection import deep_analysis_plan, load_chosen


def deep_requests(instance: dg.DagsterInstance, plan: dict[str, str], run_key: str,
                  trigger: str) -> list[dg.RunRequest]:
    """Runs of the five deep-analysis assets over the planned jobs, one per range of consecutive keys.

    Dagster 1.13 also offers `RunRequest.for_asset_graph_subset` (a backfill of any partition set), but
    its AssetGraphSubset is private API, a backfill has no run key to deduplicate a repeated tick, and
    it sizes runs by the assets' backfill policy (single-run today: one run per contiguous range of
    any length). Explicit ranges give the same number of runs, bounded by DEEP_BATCH, with public API.
    """
    ordered = instance.get_dynamic_partitions(glue_jobs_partitions.name)
    wanted = set(plan) - partitions_in_progress(instance, DEEP_ASSET_KEYS[-1], ordered)
    tags = {STAGE_TAG: "deep_analysis", TRIGGER_TAG: trigger}
    return [range_run(DEEP_ASSET_KEYS, start, end, run_key, tags)
            for start, end in partition_ranges(ordered, wanted, DEEP_BATCH, exact=True)]


def read_cursor(raw: str | None) -> tuple[int, dict[str, str] | None]:
    """(storage id of the last candidate list handled, configuration of each job chosen then)."""
    if not raw:
        return 0, None
    state = json.loads(raw)
    return state["seen"], state["configs"]


def deep_analysis_candidate_sensor(context: dg.SensorEvaluationContext, inventory_db: InventoryDatabase):
    """After each new candidate list, requests deep analysis of the chosen jobs that are new or changed.

    A hand-written sensor, not an AutomationCondition: the two lanes of the candidate list, the Glue opt-in
    tag and "the script's sha changed" live in the inventory tables, which declarative conditions cannot read.
    """
    latest = latest_materialization(context.instance, CANDIDATES)
    if latest is None:
        return dg.SkipReason("deep_analysis_candidates has not been materialized yet")
    seen, previous = read_cursor(context.cursor)
    if seen >= latest.storage_id:
        return dg.SkipReason("no new candidate list since the last evaluation")
    plan, configs = deep_analysis_plan(inventory_db.engine(), previous)
    requests = deep_requests(context.instance, plan, f"candidates-{latest.storage_id}", "candidates")
    context.log.info(f"{len(configs)} jobs chosen; deep analysis of {len(plan)} in {len(requests)} runs: "
                     + ", ".join(f"{key} ({reason})" for key, reason in sorted(plan.items())[:20]))
    return dg.SensorResult(run_requests=requests,
                           cursor=json.dumps({"seen": latest.storage_id, "configs": configs}))


def candidate_sensor(settings: Settings) -> dg.SensorDefinition:
    return dg.sensor(minimum_interval_seconds=settings.environment.automation_interval_s,
                     default_status=sensor_status(settings),
                     asset_selection=DEEP_ASSET_KEYS)(deep_analysis_candidate_sensor)


def weekly_schedule(settings: Settings) -> dg.ScheduleDefinition:
    crons = settings.schedules

    @dg.schedule(name="deep_analysis_weekly_schedule", cron_schedule=crons.deep_analysis_cron,
                 execution_timezone=crons.timezone, target=dg.AssetSelection.keys(*DEEP_ASSET_KEYS),
                 default_status=schedule_status(settings))
    def deep_analysis_weekly_schedule(context: dg.ScheduleEvaluationContext, inventory_db: InventoryDatabase):
        """Deep analysis of the jobs the lanes of the current candidate list chose and the opted-in jobs,
        changed or not: CloudWatch metrics and the LLM's view move even when the job does not."""
        plan = {job.key: "weekly" for job in load_chosen(inventory_db.engine())}
        week = (context.scheduled_execution_time or datetime.now(UTC)).strftime("%Y-%m-%d")
        requests = deep_requests(context.instance, plan, f"weekly-{week}", "weekly")
        return requests or dg.SkipReason(f"{len(plan)} jobs chosen, none to analyse now")

    return deep_analysis_weekly_schedule
