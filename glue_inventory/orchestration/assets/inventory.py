"""Inventory group: the job list, per-job run history and metrics, and the deep-analysis candidates."""

import math
from collections import Counter
from datetime import UTC, datetime

import dagster as dg

from glue_inventory.analysis.cost.savings import fleet_savings
from glue_inventory.config import ConfigError, Settings
from glue_inventory.keys import spread_over_platforms
from glue_inventory.orchestration.metadata import candidates_table
from glue_inventory.orchestration.observability import RUN_FIGURES, observed
from glue_inventory.orchestration.partitions import ONE_RUN, glue_jobs_partitions
from glue_inventory.orchestration.resources import AwsPlatforms, GlueInventoryConfig, InventoryDatabase, ReportsLocation
from glue_inventory.services.candidates import candidate_list, stored_evidence
from glue_inventory.services.inventory import list_inventory, store_snapshot
from glue_inventory.services.organization import OrganizationError
from glue_inventory.services.preliminary import PreliminaryRunner
from glue_inventory.storage.candidates import current_lanes_by_key


@dg.asset(group_name="inventory", pool="aws_api", kinds={"aws", "glue"})
@observed
def glue_jobs(context: dg.AssetExecutionContext, aws: AwsPlatforms, config: GlueInventoryConfig,
              inventory_db: InventoryDatabase) -> dg.MaterializeResult:
    """Every Glue job of every configured (or discovered) account and region, with its configuration and tags,
    stored with what the listing implies (services.inventory.store_snapshot: vanished jobs, realized savings,
    retired platforms) before the job partitions change."""
    try:
        discovery = aws.discover()
        sessions = aws.sessions() + aws.member_sessions(discovery)
    except (ConfigError, OrganizationError) as exc:
        raise dg.Failure(description=str(exc)) from None
    snapshot = list_inventory(sessions, discovery)
    store_snapshot(inventory_db.engine(), snapshot, config.settings.pricing)
    live = snapshot.live_partition_keys()
    existing = set(context.instance.get_dynamic_partitions(glue_jobs_partitions.name))
    new_keys = spread_over_platforms(sorted(live - existing))
    vanished = sorted(k for k in existing - live if snapshot.covers(k))
    if new_keys:
        context.instance.add_dynamic_partitions(glue_jobs_partitions.name, new_keys)
    for key in vanished:
        context.instance.delete_dynamic_partition(glue_jobs_partitions.name, key)

    failed = [listing for listing in snapshot.listings if listing.error]
    for listing in failed:
        context.log.warning(f"platform {listing.name} failed: {listing.error}")
    for duplicate in snapshot.duplicates:
        context.log.warning(f"platform {duplicate}: not listed twice")
    for skipped in snapshot.skipped:
        context.log.info(f"account {skipped.account_id} ({skipped.account_name}) skipped: {skipped.reason}")
    context.log.info(f"{len(live)} jobs on {len(snapshot.listings) - len(failed)}/{len(snapshot.listings)} "
                     f"platforms; {len(new_keys)} new, {len(vanished)} vanished; API calls {aws.counter.snapshot()}")
    return dg.MaterializeResult(metadata={
        "jobs": len(live),
        "new_jobs": len(new_keys),
        "vanished_jobs": len(vanished),
        "platforms_failed": len(failed),
        "platforms_duplicate": len(snapshot.duplicates),
        "accounts_skipped": len(snapshot.skipped),
        "skipped_accounts": dg.MetadataValue.json([
            {"account_id": s.account_id, "account_name": s.account_name, "ou_path": s.ou_path, "reason": s.reason}
            for s in snapshot.skipped]),
        "api_calls": aws.counter.total_calls,
        "throttling_retries": aws.counter.total_retries,
        **aws.pacing_metadata(),
        "platforms": dg.MetadataValue.md(snapshot.platforms_markdown()),
    })


@dg.asset(
    group_name="inventory",
    partitions_def=glue_jobs_partitions,
    deps=[glue_jobs],
    pool="aws_api",
    io_manager_key="inventory_tables",
    backfill_policy=ONE_RUN,
    kinds={"aws", "glue"},
)
@observed
def job_preliminary_metrics(
    context: dg.AssetExecutionContext, aws: AwsPlatforms, config: GlueInventoryConfig, inventory_db: InventoryDatabase
) -> dg.Output[dict[str, dict]]:
    """Run history (kept in `job_runs` beyond Glue's retention), status, cost and failure rate per job."""
    runner = PreliminaryRunner(sessions=aws.session_map(), counter=aws.counter, settings=config.settings,
                               engine=inventory_db.engine(), log=context.log)
    results = runner.run(list(context.partition_keys))
    statuses = Counter(row["status"] for row in results.values() if row.get("status"))
    errors = sum(1 for row in results.values() if row.get("last_error"))
    cost = round(math.fsum((row.get("metrics") or {}).get("cost_30d_usd") or 0 for row in results.values()), 2)
    calls = aws.counter.total_calls
    pacing = aws.pacing_metadata()
    context.log.info(f"{len(results)} jobs, statuses {dict(statuses)}; {errors} failed; "
                     f"{calls / max(1, len(results)):.3f} API calls per job; 30-day cost ${cost:,.2f}; "
                     f"{pacing['throttling']}")
    # The run's figures are one observation: Dagster copies a materialization's metadata onto every partition
    # of the run (5,000 in a large one, serialized and stored after the last call), which carry only the
    # job count and the throttling verdict.
    context.log_event(dg.AssetObservation(asset_key=context.asset_key, metadata={
        RUN_FIGURES: True,
        "jobs": len(results),
        "jobs_failed": errors,
        "runs_fetched": runner.stats.runs_changed,
        "api_calls": calls,
        "throttling_retries": aws.counter.total_retries,
        **pacing,
        "cost_30d_usd": cost,
    }))
    return dg.Output(results, metadata={"jobs": len(results), "jobs_failed": errors,
                                        "throttling": pacing["throttling"]})


class DeepLanes(dg.Config):
    """How many jobs each deep-analysis lane chooses in this run; unset: `deep_analysis.top_k_savings` and
    `deep_analysis.top_k_risk` of the config (`glue-inventory refresh --deep N` sets both)."""

    top_k_savings: int | None = None
    top_k_risk: int | None = None
    # The run that follows a deep analysis: score the new evidence on the same inventory and keep the lanes
    # that chose the analysed jobs (the next inventory's list chooses again, with every job's evidence).
    keep_lanes: bool = False


# The resources are reached through the context: Dagster reserves the parameter name `config` for the run
# config (DeepLanes here), the settings resource's key is `config`, and a function cannot mix both ways.
# The list chooses the jobs the deep analysis analyses (the graph's edge to it), and is the only writer of
# priorities: the run after a deep analysis (keep_lanes; orchestration.automation.stages.EVIDENCE_INPUTS)
# scores the evidence the analysis recorded in `analysis_runs`.
@dg.asset(group_name="inventory", io_manager_key="inventory_tables", deps=["glue_billed_costs"],
          ins={"job_preliminary_metrics": dg.AssetIn(input_manager_key="inventory_tables")},
          required_resource_keys={"config", "reports", "inventory_db"})
@observed
def deep_analysis_candidates(context: dg.AssetExecutionContext, config: DeepLanes,
                             job_preliminary_metrics: dict[str, dict]) -> dg.Output[list[dict]]:
    """Jobs worth a deep analysis, each with its reasons, score, priority, monthly saving by basis and the
    deep-analysis lane that chose it."""
    settings: Settings = context.resources.config.settings
    reports: ReportsLocation = context.resources.reports
    inventory_db: InventoryDatabase = context.resources.inventory_db
    lanes = settings.deep_analysis
    sizes = (lanes.top_k_savings if config.top_k_savings is None else config.top_k_savings,
             lanes.top_k_risk if config.top_k_risk is None else config.top_k_risk)
    engine = inventory_db.engine()
    kept = current_lanes_by_key(engine) if config.keep_lanes else None
    result = candidate_list(job_preliminary_metrics, settings, datetime.now(UTC), stored_evidence(engine), sizes,
                            kept)
    written = reports.write(result.files)
    rows = result.rows
    context.log.info(f"{len(rows)} candidates among {result.live_jobs} live jobs; reports: {written}")
    return dg.Output(rows, metadata={
        "candidates": len(rows),
        "live_jobs": result.live_jobs,
        **{f"savings_{name}_usd": usd for name, usd in fleet_savings(r["savings_by_basis"] for r in rows).items()},
        "deep_analysis_lanes": dg.MetadataValue.json(dict(Counter(r["deep_lane"] for r in rows if r["deep_lane"]))),
        "by_priority": dg.MetadataValue.json(dict(Counter(r["priority"] for r in rows))),
        "top_candidates": candidates_table(rows),
        "summary": dg.MetadataValue.md(result.summary_md),
        "reports": dg.MetadataValue.json(written),
    })
