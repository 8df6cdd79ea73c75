"""Asset checks: every live job has a fresh preliminary analysis; no platform failed."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from glue_inventory.orchestration.resources import InventoryDatabase
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


inventory_checks = [no_platform_failed, preliminary_metrics_fresh]
