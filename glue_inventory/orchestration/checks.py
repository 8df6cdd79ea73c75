"""Asset checks: every live job has a fresh preliminary analysis; no platform failed; each stage was materialized
within its `freshness:` hours (with the tool's health KPIs published as they are checked)."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg

from glue_inventory.config import FreshnessSettings
from glue_inventory.orchestration.resources import GlueInventoryConfig, InventoryDatabase
from glue_inventory.services.kpis import publish_health
from glue_inventory.storage.jobs import failed_platforms, stale_and_failing

# Fresh means analysed since the job list was last read, or within a day.
FRESHNESS = timedelta(days=1)


@dg.asset_check(asset="glue_jobs", description="Every platform (account and region) was listed.")
def no_platform_failed(inventory_db: InventoryDatabase) -> dg.AssetCheckResult:
    failed = failed_platforms(inventory_db.engine())
    return dg.AssetCheckResult(
        passed=not failed,
        metadata={"failed_platforms": dg.MetadataValue.json(
            [{"platform": n, "region": r, "error": e} for n, r, e in failed])})


@dg.asset_check(asset="deep_analysis_candidates",
                description="Every live job has a preliminary analysis from the last day, without error.")
def preliminary_metrics_fresh(inventory_db: InventoryDatabase) -> dg.AssetCheckResult:
    total, stale, failing = stale_and_failing(inventory_db.engine(), datetime.now(UTC) - FRESHNESS)
    return dg.AssetCheckResult(
        passed=not stale and not failing,
        metadata={"live_jobs": total, "without_fresh_analysis": len(stale), "with_errors": len(failing),
                  "examples": dg.MetadataValue.json(
                      stale[:20] + [f"{key}: {error}" for key, error in failing[:20]])})


FRESH = "fresh"
STAGES = list(FreshnessSettings.model_fields)
# The stage whose age is InventoryAgeHours: the end of a whole inventory.
LAST_STAGE = "executive_report"
FRESHNESS_CHECKS = [dg.AssetCheckKey(dg.AssetKey(stage), FRESH) for stage in STAGES]


def _age_hours(instance: dg.DagsterInstance, stage: str, now: datetime) -> float | None:
    event = instance.get_latest_materialization_event(dg.AssetKey(stage))
    return None if event is None else (now.timestamp() - event.timestamp) / 3600


def _last_run_succeeded(instance: dg.DagsterInstance, own_job: str) -> bool | None:
    """Whether the latest finished run (other than these checks') succeeded; None before any."""
    records = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS,
                                                               dg.DagsterRunStatus.FAILURE]), limit=20)
    runs = [record.dagster_run for record in records if record.dagster_run.job_name != own_job]
    return runs[0].status == dg.DagsterRunStatus.SUCCESS if runs else None


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec(FRESH, asset=stage, description=f"Materialized within `freshness.{stage}` hours.")
           for stage in STAGES],
    name="stage_freshness", can_subset=True)
def stage_freshness(context: dg.AssetCheckExecutionContext,
                    config: GlueInventoryConfig) -> Iterator[dg.AssetCheckResult]:
    """Each selected stage's age against its limit (a run materializing a stage checks it too); when all are
    checked (the hourly schedule), InventoryAgeHours and LastRunSucceeded to CloudWatch (`metrics:`)."""
    now, limits = datetime.now(UTC), config.settings.freshness
    selected = [key.asset_key.to_user_string() for key in context.selected_asset_check_keys]
    ages = {stage: _age_hours(context.instance, stage, now) for stage in STAGES if stage in selected}
    for stage, age in ages.items():
        limit = getattr(limits, stage)
        yield dg.AssetCheckResult(
            asset_key=stage, check_name=FRESH, passed=age is not None and age <= limit,
            metadata={"age_hours": round(age, 2) if age is not None else "never materialized",
                      "max_age_hours": limit})
    if len(ages) < len(STAGES):
        return
    published = publish_health(config.settings.metrics, ages[LAST_STAGE],
                               _last_run_succeeded(context.instance, context.run.job_name), now)
    if published is not None and published.error:
        context.log.warning(f"health KPIs not published to {published.namespace}: {published.error}")


inventory_checks = [no_platform_failed, preliminary_metrics_fresh, stage_freshness]
