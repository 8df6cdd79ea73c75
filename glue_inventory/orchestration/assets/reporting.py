"""Reporting group: the executive summary, the offline dashboard and their JSON."""

from datetime import UTC, datetime

import dagster as dg

from glue_inventory.orchestration.resources import AwsPlatforms, GlueInventoryConfig, InventoryDatabase, ReportsLocation
from glue_inventory.services.reporting import HISTORY_FILE
from glue_inventory.services.reporting import executive_report as build_executive_report


@dg.asset(group_name="reporting", deps=["deep_analysis_candidates", "job_deep_analysis"], pool="aws_api",
          io_manager_key="report_files", kinds={"html", "markdown"})
def executive_report(context: dg.AssetExecutionContext, aws: AwsPlatforms, inventory_db: InventoryDatabase,
                     reports: ReportsLocation, config: GlueInventoryConfig) -> dg.Output[dict[str, str]]:
    """What a head of data platform reads on Monday: spend, dead jobs, risks and the first actions."""
    report = build_executive_report(inventory_db.engine(), aws.session_map(), reports.read_json(HISTORY_FILE),
                                    datetime.now(UTC), settings=config.settings)
    return dg.Output(report.files, metadata={
        "summary": dg.MetadataValue.md(report.summary_md),
        "estimated_monthly_usd": report.numbers["spend"]["estimated_monthly_usd"],
        "savings_identified_usd": report.numbers["savings"]["total_monthly_usd"],
    })
