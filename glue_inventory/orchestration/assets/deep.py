"""Deep-analysis group: CloudWatch right-sizing, the script, code analysis, LLM review, the per-job verdict."""

import os
from datetime import UTC, datetime

import dagster as dg

from glue_inventory.orchestration.metadata import partition_metadata
from glue_inventory.orchestration.observability import observed
from glue_inventory.orchestration.partitions import ONE_RUN, glue_jobs_partitions
from glue_inventory.orchestration.resources import AwsPlatforms, GlueInventoryConfig, InventoryDatabase, ReportsLocation
from glue_inventory.services.code.review import ai_reviews, code_analyses
from glue_inventory.services.deep_inputs import cloudwatch_results, script_results
from glue_inventory.services.deep_verdict import record_deep_analyses
from glue_inventory.services.event_logs import event_log_results
from glue_inventory.services.preliminary import job_record, load_job_records
from glue_inventory.storage.jobs import read_jobs

DEEP = {
    "group_name": "deep_analysis",
    "partitions_def": glue_jobs_partitions,
    "io_manager_key": "job_artifacts",
    "backfill_policy": ONE_RUN,
}


def _unreachable(results: dict[str, dict]) -> int:
    return sum(1 for result in results.values() if result.get("error"))


# After the candidate list: it chooses the jobs (deps state the order; nothing is loaded from it).
@dg.asset(**DEEP, deps=["deep_analysis_candidates"], pool="aws_api", kinds={"aws", "cloudwatch"})
@observed
def job_cloudwatch_metrics(context: dg.AssetExecutionContext, aws: AwsPlatforms, config: GlueInventoryConfig,
                           inventory_db: InventoryDatabase) -> dict[str, dict]:
    """CloudWatch metrics of each job's recent runs and the worker count and type they call for."""
    engine = inventory_db.engine()
    jobs = read_jobs(engine, context.partition_keys)
    specs = {key: job_record(job).spec for key, job in jobs.items()}
    results = cloudwatch_results(aws.session_map(), engine, jobs, specs, config.settings, datetime.now(UTC))
    context.add_output_metadata({"jobs": len(results), "errors": _unreachable(results),
                                 "api_calls": aws.counter.total_calls})
    return results


@dg.asset(**DEEP, deps=["deep_analysis_candidates"], pool="aws_api", kinds={"aws", "s3"})
@observed
def job_script(context: dg.AssetExecutionContext, aws: AwsPlatforms, config: GlueInventoryConfig,
               inventory_db: InventoryDatabase) -> dict[str, dict]:
    """Each job's script from S3: sha256 of the original and the text with secrets redacted."""
    jobs = read_jobs(inventory_db.engine(), context.partition_keys)
    results = script_results(aws.session_map(), jobs, config.settings)
    context.add_output_metadata({"scripts": sum(1 for r in results.values() if r.get("sha256")),
                                 "missing": sum(1 for r in results.values() if not r.get("sha256"))})
    return results


@dg.asset(**DEEP, ins={"job_script": dg.AssetIn()}, kinds={"python"})
@observed
def job_code_analysis(context: dg.AssetExecutionContext, config: GlueInventoryConfig,
                      inventory_db: InventoryDatabase, job_script: dict[str, dict]) -> dict[str, dict]:
    """AST rules, pylint, bandit and secrets findings per job script (cached by script and tool versions)."""
    engine = inventory_db.engine()
    results, hits = code_analyses(engine, read_jobs(engine, context.partition_keys), job_script, config.settings,
                                  context.log.info)
    context.add_output_metadata({"jobs": len(results), "cache_hits": hits,
                                 "findings": sum(len(r["findings"]) for r in results.values())})
    return results


@dg.asset(**DEEP, ins={"job_script": dg.AssetIn(), "job_code_analysis": dg.AssetIn(),
                       "job_cloudwatch_metrics": dg.AssetIn()}, kinds={"openai"})
@observed
def job_ai_review(context: dg.AssetExecutionContext, config: GlueInventoryConfig, inventory_db: InventoryDatabase,
                  job_script: dict[str, dict], job_code_analysis: dict[str, dict],
                  job_cloudwatch_metrics: dict[str, dict]) -> dict[str, dict]:
    """A structured LLM review per job (OpenAI-compatible API), or a recorded skip when no key is set."""
    engine = inventory_db.engine()
    specs = {key: record.spec for key, record in load_job_records(engine, list(context.partition_keys)).items()}
    results = ai_reviews(engine, specs, job_script, job_code_analysis, job_cloudwatch_metrics, config.settings,
                         os.environ)
    statuses = [r.get("status") for r in results.values()]
    context.add_output_metadata({"reviewed": statuses.count("ok"), "skipped": statuses.count("skipped"),
                                 "errors": statuses.count("error")})
    return results


@dg.asset(**DEEP, ins={"job_script": dg.AssetIn(), "job_code_analysis": dg.AssetIn(),
                       "job_cloudwatch_metrics": dg.AssetIn(), "job_ai_review": dg.AssetIn()},
          pool="aws_api", kinds={"markdown", "s3"})
@observed
def job_deep_analysis(context: dg.AssetExecutionContext, aws: AwsPlatforms, config: GlueInventoryConfig,
                      inventory_db: InventoryDatabase, reports: ReportsLocation, job_script: dict[str, dict],
                      job_code_analysis: dict[str, dict], job_cloudwatch_metrics: dict[str, dict],
                      job_ai_review: dict[str, dict]) -> dict[str, dict]:
    """Everything known about each job (its Spark event logs read here) compiled into recommendations with
    savings, and its Markdown report."""
    engine = inventory_db.engine()
    jobs = read_jobs(engine, context.partition_keys)
    event_logs = event_log_results(aws.session_map(), engine, jobs, {k: job_record(j).spec for k, j in jobs.items()},
                                   config.settings, datetime.now(UTC))
    verdicts, files = record_deep_analyses(engine, jobs, job_script, job_code_analysis, job_cloudwatch_metrics,
                                           job_ai_review, config.settings, context.run_id, event_logs)
    written = reports.write(files)
    for key, verdict in verdicts.items():
        path = verdict["report"]
        metadata = partition_metadata(verdict, files[path], job_code_analysis.get(key) or {}, reports.link(path))
        context.add_asset_metadata(metadata, partition_key=key)
    context.add_output_metadata({"jobs": len(verdicts), "reports": len(written),
                                 "event_logs": sum(1 for e in event_logs.values() if e["status"] == "ok"),
                                 "event_log_cache_hits": sum(e["cache_hits"] for e in event_logs.values())})
    return verdicts


deep_assets = [job_cloudwatch_metrics, job_script, job_code_analysis, job_ai_review, job_deep_analysis]
DEEP_ASSET_KEYS = [asset.key for asset in deep_assets]
