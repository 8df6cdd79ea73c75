"""Reporting group: remediation plans, the executive summary, the offline dashboard and their JSON."""

from datetime import UTC, datetime

import dagster as dg

from glue_inventory.orchestration.resources import AwsPlatforms, InventoryDatabase, ReportsLocation
from glue_inventory.services.remediation import build_plans
from glue_inventory.services.reporting import HISTORY_FILE
from glue_inventory.services.reporting import executive_report as build_executive_report

PLANS = dg.TableSchema(columns=[
    dg.TableColumn("job", "string"), dg.TableColumn("plan", "string"), dg.TableColumn("kind", "string"),
    dg.TableColumn("title", "string"), dg.TableColumn("saving_usd_month", "float"), dg.TableColumn("risk", "string"),
    dg.TableColumn("applicable", "bool")])
# Plans shown in the UI table; remediation.json holds them all.
TABLE_ROWS = 100


@dg.asset(group_name="reporting", deps=["deep_analysis_candidates", "job_deep_analysis"], pool="aws_api",
          io_manager_key="report_files", kinds={"markdown", "json"})
def remediation_plans(context: dg.AssetExecutionContext, aws: AwsPlatforms,
                      inventory_db: InventoryDatabase) -> dg.Output[dict[str, str]]:
    """The exact change for each concrete action (CLI, Terraform, saving, risk), applied only once approved."""
    result = build_plans(inventory_db.engine(), aws.session_map(), datetime.now(UTC))
    for (account, region), error in result.errors.items():
        context.log.warning(f"triggers of {account}/{region} not listed, its delete plans are left to a person: "
                            f"{error}")
    plans = result.plans
    return dg.Output(result.files, metadata={
        "plans": len(plans),
        "applicable": sum(1 for plan in plans if plan["applicable"]),
        "expected_monthly_savings_usd": round(sum(plan["expected_monthly_savings_usd"] for plan in plans), 2),
        "by_kind": dg.MetadataValue.json(result.by_kind()),
        "top_plans": dg.MetadataValue.table([dg.TableRecord({
            "job": plan["key"], "plan": plan["plan_id"], "kind": plan["kind"], "title": plan["title"],
            "saving_usd_month": round(plan["expected_monthly_savings_usd"], 2), "risk": plan["risk"]["level"],
            "applicable": plan["applicable"]}) for plan in plans[:TABLE_ROWS]], schema=PLANS),
    })


@dg.asset(group_name="reporting", deps=["deep_analysis_candidates", "job_deep_analysis", remediation_plans],
          pool="aws_api", io_manager_key="report_files", kinds={"html", "markdown"})
def executive_report(context: dg.AssetExecutionContext, aws: AwsPlatforms, inventory_db: InventoryDatabase,
                     reports: ReportsLocation) -> dg.Output[dict[str, str]]:
    """What a head of data platform reads on Monday: spend, dead jobs, risks and the first actions."""
    report = build_executive_report(inventory_db.engine(), aws.session_map(), reports.read_json(HISTORY_FILE),
                                    datetime.now(UTC))
    return dg.Output(report.files, metadata={
        "summary": dg.MetadataValue.md(report.summary_md),
        "estimated_monthly_usd": report.numbers["spend"]["estimated_monthly_usd"],
        "savings_identified_usd": report.numbers["savings"]["total_monthly_usd"],
    })
