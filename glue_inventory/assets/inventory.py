"""Inventory group: the job list, per-job run history and metrics, and the deep-analysis candidates."""


from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import dagster as dg

from glue_inventory.analysis.candidates import select_candidates
from glue_inventory.assets.preliminary import PreliminaryRunner
from glue_inventory.assets.rows import candidate_rows, job_report_rows
from glue_inventory.aws.inventory import InventorySnapshot, list_platform
from glue_inventory.partitions import glue_jobs_partitions, spread_over_platforms
from glue_inventory.reports import preliminary as render
from glue_inventory.resources import AwsPlatforms, GlueInventoryConfig, InventoryDatabase, ReportsLocation


@dg.asset(group_name="inventory", pool="aws_api", io_manager_key="inventory_tables", kinds={"aws", "glue"})
def glue_jobs(context: dg.AssetExecutionContext, aws: AwsPlatforms) -> dg.Output[InventorySnapshot]:
    """Every Glue job of every configured account and region, with its configuration and tags."""
    sessions = aws.sessions()
    with ThreadPoolExecutor(max_workers=min(8, len(sessions)) or 1) as pool:
        listings = list(pool.map(list_platform, sessions))
    snapshot = InventorySnapshot(listings=listings, seen_at=datetime.now(UTC))

    live = snapshot.live_partition_keys()
    existing = set(context.instance.get_dynamic_partitions(glue_jobs_partitions.name))
    new_keys = spread_over_platforms(sorted(live - existing))
    vanished = sorted(k for k in existing - live if snapshot.covers(k))
    if new_keys:
        context.instance.add_dynamic_partitions(glue_jobs_partitions.name, new_keys)
    for key in vanished:
        context.instance.delete_dynamic_partition(glue_jobs_partitions.name, key)

    failed = [listing for listing in listings if listing.error]
    for listing in failed:
        context.log.warning(f"platform {listing.name} failed: {listing.error}")
    context.log.info(f"{len(live)} jobs on {len(listings) - len(failed)}/{len(listings)} platforms; "
                     f"{len(new_keys)} new, {len(vanished)} vanished; API calls {aws.counter.snapshot()}")
    return dg.Output(snapshot, metadata={
        "jobs": len(live),
        "new_jobs": len(new_keys),
        "vanished_jobs": len(vanished),
        "platforms_failed": len(failed),
        "api_calls": aws.counter.total_calls,
        "throttling_retries": aws.counter.total_retries,
        "platforms": dg.MetadataValue.md(snapshot.platforms_markdown()),
    })


@dg.asset(
    group_name="inventory",
    partitions_def=glue_jobs_partitions,
    deps=[glue_jobs],
    pool="aws_api",
    io_manager_key="inventory_tables",
    # One run handles any number of jobs (the CLI's --partition-range needs single_run); the sensor and
    # the schedule batch their requests themselves.
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"aws", "glue"},
)
def job_preliminary_metrics(
    context: dg.AssetExecutionContext, aws: AwsPlatforms, config: GlueInventoryConfig, inventory_db: InventoryDatabase
) -> dg.Output[dict[str, dict]]:
    """Run history (kept in `job_runs` beyond Glue's retention), status, cost and failure rate per job."""
    runner = PreliminaryRunner(aws=aws, settings=config.settings, engine=inventory_db.engine(), log=context.log)
    results = runner.run(list(context.partition_keys))
    statuses = Counter(row["status"] for row in results.values() if row.get("status"))
    errors = sum(1 for row in results.values() if row.get("last_error"))
    return dg.Output(results, metadata={
        "jobs": len(results),
        "jobs_failed": errors,
        "runs_fetched": runner.stats.runs_changed,
        "api_calls": aws.counter.total_calls,
        "api_calls_per_job": round(aws.counter.total_calls / max(1, len(results)), 3),
        "throttling_retries": aws.counter.total_retries,
        "status_distribution": dg.MetadataValue.json(dict(statuses)),
        "cost_30d_usd": round(sum(r.get("cost_30d_usd") or 0 for r in results.values()), 2),
    })


@dg.asset(group_name="inventory", io_manager_key="inventory_tables",
          ins={"job_preliminary_metrics": dg.AssetIn(input_manager_key="inventory_tables")})
def deep_analysis_candidates(
    context: dg.AssetExecutionContext,
    config: GlueInventoryConfig,
    reports: ReportsLocation,
    job_preliminary_metrics: dict[str, dict],
) -> dg.Output[list[dict]]:
    """Jobs worth a deep analysis, each with its reasons, score, priority and estimated monthly saving."""
    jobs = job_preliminary_metrics
    live = {key: row["metrics"] for key, row in jobs.items() if row["status"] != "deleted" and row["metrics"]}
    candidates = select_candidates(live, config.settings)
    rows = candidate_rows(candidates, jobs)
    job_rows = job_report_rows(jobs, candidates, datetime.now(UTC))
    generated_at = datetime.now(UTC)
    written = reports.write({
        "inventory.json": render.inventory_json(job_rows, generated_at),
        "inventory.csv": render.inventory_csv(job_rows),
        "candidates.json": render.candidates_json(rows, generated_at),
        "candidates.csv": render.candidates_csv(rows),
        "inventory_summary.md": render.inventory_summary_md(job_rows, rows, generated_at),
    })
    summary = render.inventory_summary_md(job_rows, rows[:50], generated_at)
    context.log.info(f"{len(rows)} candidates among {len(live)} live jobs; reports: {written}")
    return dg.Output(rows, metadata={
        "candidates": len(rows),
        "live_jobs": len(live),
        "estimated_monthly_savings_usd": round(sum(r["estimated_monthly_savings_usd"] for r in rows), 2),
        "by_priority": dg.MetadataValue.json(dict(Counter(r["priority"] for r in rows))),
        "summary": dg.MetadataValue.md(summary),
        "reports": dg.MetadataValue.json(written),
    })
