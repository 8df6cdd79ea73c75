"""Asset checks: every live job has a fresh preliminary analysis; no platform failed."""


from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from glue_inventory.resources import InventoryDatabase
from glue_inventory.storage.tables import data_jobs, platforms

# Fresh means analysed since the job list was last read, or within a day.
FRESHNESS = timedelta(days=1)


@dg.asset_check(asset="glue_jobs", description="Every platform (account and region) was listed.")
def no_platform_failed(inventory_db: InventoryDatabase) -> dg.AssetCheckResult:
    with inventory_db.engine().connect() as conn:
        failed = conn.execute(sa.select(platforms.c.name, platforms.c.region, platforms.c.last_error)
                              .where(platforms.c.status == "failed")).all()
    return dg.AssetCheckResult(
        passed=not failed,
        metadata={"failed_platforms": dg.MetadataValue.json(
            [{"platform": n, "region": r, "error": e} for n, r, e in failed])})


@dg.asset_check(asset="deep_analysis_candidates",
                description="Every live job has a preliminary analysis from the last day, without error.")
def preliminary_metrics_fresh(inventory_db: InventoryDatabase) -> dg.AssetCheckResult:
    cutoff = datetime.now(UTC) - FRESHNESS
    with inventory_db.engine().connect() as conn:
        live = sa.and_(sa.or_(data_jobs.c.status.is_(None), data_jobs.c.status != "deleted"))
        total = conn.execute(sa.select(sa.func.count()).where(live)).scalar_one()
        stale = conn.execute(sa.select(data_jobs.c.partition_key).where(
            live, sa.or_(data_jobs.c.status.is_(None), data_jobs.c.updated_at < cutoff))).scalars().all()
        failing = conn.execute(sa.select(data_jobs.c.partition_key, data_jobs.c.last_error).where(
            live, data_jobs.c.last_error.is_not(None))).all()
    return dg.AssetCheckResult(
        passed=not stale and not failing,
        metadata={"live_jobs": total, "without_fresh_analysis": len(stale), "with_errors": len(failing),
                  "examples": dg.MetadataValue.json(
                      stale[:20] + [f"{key}: {error}" for key, error in failing[:20]])})


inventory_checks = [no_platform_failed, preliminary_metrics_fresh]
