"""Reporting group: remediation plans, the executive summary, the offline dashboard and their JSON."""

from datetime import UTC, datetime

import dagster as dg

from glue_inventory.orchestration.observability import (
    cur_bytes_scanned,
    inventories_per_month,
    inventory_calls,
    observed,
)
from glue_inventory.orchestration.resources import AwsPlatforms, GlueInventoryConfig, InventoryDatabase, ReportsLocation
from glue_inventory.reports.remediation import JSON_FILE as REMEDIATION_JSON
from glue_inventory.services.actions.plans import build_plans
from glue_inventory.services.cost.tool_cost import ToolUsage
from glue_inventory.services.kpis import publish_kpis
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
@observed
def remediation_plans(context: dg.AssetExecutionContext, aws: AwsPlatforms, inventory_db: InventoryDatabase,
                      reports: ReportsLocation) -> dg.Output[dict[str, str]]:
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
        "applied_90d": sum(1 for row in result.applications if row["status"] == "applied"),
        "remediation_json": reports.link(REMEDIATION_JSON),
        "top_plans": dg.MetadataValue.table([dg.TableRecord({
            "job": plan["key"], "plan": plan["plan_id"], "kind": plan["kind"], "title": plan["title"],
            "saving_usd_month": round(plan["expected_monthly_savings_usd"], 2), "risk": plan["risk"]["level"],
            "applicable": plan["applicable"]}) for plan in plans[:TABLE_ROWS]], schema=PLANS),
    })


# The report files linked from the asset's page (the IO manager writes them under the reports location).
REPORT_LINKS = {"executive_summary": "executive_summary.md", "dashboard": "dashboard.html",
                "executive_json": "executive.json", "remediation_json": REMEDIATION_JSON}


def _headlines(numbers: dict) -> dict[str, float | int]:
    realized = numbers["savings"]["realized"]
    figures = {
        "live_jobs": numbers["jobs"]["live"],
        "estimated_monthly_usd": numbers["spend"]["estimated_monthly_usd"],
        "actual_30d_usd": numbers["spend"]["actual_30d_usd"],
        "savings_identified_usd": numbers["savings"]["total_monthly_usd"],
        "savings_realized_usd": realized["last_90_days"]["monthly_usd"],
        "savings_realized_month_to_date_usd": realized["month_to_date"]["monthly_usd"],
        "candidates": numbers["savings"]["candidates"],
        "secret_arguments": numbers["security"]["secret_arguments"],
        "eol_jobs": numbers["eol"]["jobs"],
    }
    return {name: value for name, value in figures.items() if value is not None}


@dg.asset(group_name="reporting", deps=["deep_analysis_candidates", "job_deep_analysis", remediation_plans],
          pool="aws_api", io_manager_key="report_files", kinds={"html", "markdown"})
@observed
def executive_report(context: dg.AssetExecutionContext, aws: AwsPlatforms, config: GlueInventoryConfig,
                     inventory_db: InventoryDatabase, reports: ReportsLocation) -> dg.Output[dict[str, str]]:
    """What a head of data platform reads on Monday: spend, dead jobs, risks and the first actions."""
    engine, now = inventory_db.engine(), datetime.now(UTC)
    before = aws.counter.usage()
    usage = ToolUsage(earlier=inventory_calls(context.instance, exclude=context.asset_key),
                      own=lambda: aws.counter.usage() - before, cur_bytes=cur_bytes_scanned(context.instance),
                      inventories_per_month=inventories_per_month(config.settings.schedules, now))
    report = build_executive_report(engine, aws.session_map(), reports.read_json(HISTORY_FILE), now,
                                    settings=config.settings, usage=usage)
    metadata = {"summary": dg.MetadataValue.md(report.summary_md), **_headlines(report.numbers),
                **{name: reports.link(relpath) for name, relpath in REPORT_LINKS.items()}}
    tool_cost = report.numbers["tool_cost"]
    metadata |= {"tool_cost_inventory_usd": tool_cost["inventory_usd"],
                 "tool_cost_monthly_usd": tool_cost["monthly_usd"],
                 "tool_cost_calls": dg.MetadataValue.json(tool_cost["calls"])}
    published = publish_kpis(engine, config.settings.metrics, now)
    if published is not None:
        metadata["kpis_published"] = 0 if published.error else len(published.kpis)
        if published.error:
            context.log.warning(f"KPIs not published to CloudWatch namespace {published.namespace}: "
                                f"{published.error}")
        else:
            context.log.info(f"{len(published.kpis)} KPIs published to CloudWatch namespace {published.namespace} "
                             f"in {published.calls} call(s)")
    return dg.Output(report.files, metadata=metadata)
