"""The bill: the Cost and Usage Report's Glue line items per job and day (group inventory)."""

from datetime import UTC, datetime

import dagster as dg

from glue_inventory.aws.cur import CurExportError
from glue_inventory.config import ConfigError
from glue_inventory.orchestration.observability import observed
from glue_inventory.orchestration.resources import AwsPlatforms, GlueInventoryConfig, InventoryDatabase
from glue_inventory.services.cost.bill import load_billed_costs


# After the job list: the bill is matched to its jobs (deps state the order; nothing is loaded from it).
@dg.asset(group_name="inventory", deps=["glue_jobs"], pool="aws_api", kinds={"aws", "s3", "parquet"})
@observed
def glue_billed_costs(context: dg.AssetExecutionContext, aws: AwsPlatforms, config: GlueInventoryConfig,
                      inventory_db: InventoryDatabase) -> dg.MaterializeResult:
    """Glue line items of the Cost and Usage Report per resource and day, when `billing:` is set."""
    try:
        load = load_billed_costs(config.settings, aws.sessions(), inventory_db.engine(), datetime.now(UTC),
                                 context.log.info, context.run_id)
    except (CurExportError, ConfigError) as exc:
        raise dg.Failure(description=str(exc)) from None
    for reason in load.skipped:
        context.log.warning(f"billing: skipped {reason}")
    scan = load.scan
    return dg.MaterializeResult(metadata={
        "configured": load.configured,
        "periods": dg.MetadataValue.json(load.periods),
        "rows_stored": sum(load.periods.values()),
        "skipped": len(load.skipped),
        "skip_reasons": dg.MetadataValue.md("\n".join(f"- {reason}" for reason in load.skipped) or "none"),
        "files": scan.files,
        "bytes": scan.bytes,
        "row_groups_read": scan.row_groups,
        "row_groups_skipped": scan.row_groups_skipped,
        "line_items_read": scan.rows,
        "line_items_per_s": round(scan.rows / load.seconds) if load.seconds else 0,
        "unknown_job_resources": load.unknown_resources,
        "jobs_updated": load.jobs_updated,
        "billed_through": load.through.isoformat() if load.through else "none",
        "seconds": round(load.seconds, 2),
    })
