"""Deep-analysis group: CloudWatch right-sizing, the script, code analysis, LLM review, the per-job verdict."""

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import dagster as dg

from glue_inventory.analysis import ai_review
from glue_inventory.analysis.code_analysis import analyse_script, summarise
from glue_inventory.analysis.code_analysis import cache_key as code_cache_key
from glue_inventory.analysis.code_rules import RULES_VERSION
from glue_inventory.analysis.script import ScriptInfo
from glue_inventory.analysis.static_tools import tool_versions
from glue_inventory.assets.deep_verdict import compile_deep_analysis
from glue_inventory.assets.deep_work import cloudwatch_result, digest, recent_runs, script_result, utcnow
from glue_inventory.assets.preliminary import load_job_records
from glue_inventory.partitions import glue_jobs_partitions
from glue_inventory.resources import AwsPlatforms, GlueInventoryConfig, InventoryDatabase, ReportsLocation
from glue_inventory.storage import repository
from glue_inventory.storage.io_managers import read_jobs

DEEP = {
    "group_name": "deep_analysis",
    "partitions_def": glue_jobs_partitions,
    "io_manager_key": "job_artifacts",
    "backfill_policy": dg.BackfillPolicy.single_run(),
}


def _parallel(items: list, work: Callable, workers: int) -> list:
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(work, items))


def _sessions(aws: AwsPlatforms) -> dict[tuple[str, str], object]:
    return {(session.resolve_account_id(), session.region): session for session in aws.sessions()}


@dg.asset(**DEEP, pool="aws_api", kinds={"aws", "cloudwatch"})
def job_cloudwatch_metrics(context: dg.AssetExecutionContext, aws: AwsPlatforms, config: GlueInventoryConfig,
                           inventory_db: InventoryDatabase) -> dict[str, dict]:
    """CloudWatch metrics of each job's recent runs and the worker count and type they call for."""
    settings, engine, now = config.settings, inventory_db.engine(), utcnow()
    with engine.connect() as conn:
        jobs = read_jobs(conn, list(context.partition_keys))
        records = load_job_records(engine, list(jobs))
        recent = {key: recent_runs(conn, job["data_job_id"], now, settings.thresholds.window_days,
                                       settings.deep_analysis.max_runs) for key, job in jobs.items()}
    sessions = _sessions(aws)

    def work(key: str) -> tuple[str, dict]:
        job = jobs[key]
        session = sessions.get((job["account_id"], job["region"]))
        if session is None:
            return key, {"error": f"no configured platform reaches {job['account_id']}/{job['region']}"}
        return key, cloudwatch_result(session.client("cloudwatch"), records[key].spec, job, recent[key],
                                      settings, now)

    results = dict(_parallel(sorted(jobs), work, settings.max_workers))
    context.add_output_metadata({"jobs": len(results), "api_calls": aws.counter.total_calls})
    return results


@dg.asset(**DEEP, pool="aws_api", kinds={"aws", "s3"})
def job_script(context: dg.AssetExecutionContext, aws: AwsPlatforms, config: GlueInventoryConfig,
               inventory_db: InventoryDatabase) -> dict[str, dict]:
    """Each job's script from S3: sha256 of the original and the text with secrets redacted."""
    settings = config.settings
    with inventory_db.engine().connect() as conn:
        jobs = read_jobs(conn, list(context.partition_keys))
    sessions = _sessions(aws)

    def work(key: str) -> tuple[str, dict]:
        job = jobs[key]
        session = sessions.get((job["account_id"], job["region"]))
        if session is None:
            return key, {"kind": "missing", "findings": [], "error": "no configured platform reaches the job"}
        language = "scala" if (job["script_location"] or "").endswith(".scala") else None
        return key, script_result(session.client("s3"), job["script_location"],
                                  settings.deep_analysis.script_max_bytes, language)

    results = dict(_parallel(sorted(jobs), work, settings.max_workers))
    context.add_output_metadata({"scripts": sum(1 for r in results.values() if r.get("sha256")),
                                 "missing": sum(1 for r in results.values() if not r.get("sha256"))})
    return results


def _script_info(script: dict) -> ScriptInfo:
    return ScriptInfo(location=script.get("location") or "", sha256=script.get("sha256") or "",
                      size_bytes=script.get("size_bytes") or 0, kind=script.get("kind") or "missing",
                      text=script.get("text") or "", encoding=script.get("encoding"),
                      findings=tuple(script.get("findings") or ()))


@dg.asset(**DEEP, ins={"job_script": dg.AssetIn()}, kinds={"python"})
def job_code_analysis(context: dg.AssetExecutionContext, config: GlueInventoryConfig,
                      inventory_db: InventoryDatabase, job_script: dict[str, dict]) -> dict[str, dict]:
    """AST rules, pylint, bandit and secrets findings per job script (cached by script and tool versions)."""
    settings, engine = config.settings, inventory_db.engine()
    with engine.connect() as conn:
        jobs = read_jobs(conn, list(context.partition_keys))
    hits = 0
    versions = tool_versions()

    def work(key: str) -> tuple[str, dict]:
        nonlocal hits
        script, job = job_script.get(key) or {}, jobs[key]
        arguments = dict.fromkeys(job.get("default_argument_names") or [], "")
        if (job["script_location"] or "").endswith(".scala"):
            arguments["--job-language"] = "scala"
        # Script, tool versions and rules, and the arguments' names: any change re-analyses.
        cache_key = ":".join((code_cache_key(script.get("sha256") or "", versions, RULES_VERSION),
                              digest(sorted(arguments)), digest(job.get("secret_argument_names"))))
        if script.get("sha256"):
            with engine.connect() as conn:
                cached = repository.cache_get(conn, "code_analysis_cache", cache_key)
            if cached is not None:
                hits += 1
                return key, cached
        result = analyse_script(_script_info(script), arguments, timeout_s=settings.deep_analysis.tool_timeout_s)
        flagged = {f.get("argument") for f in result["findings"] if f["rule_id"] == "secret-in-arguments"}
        for name in job.get("secret_argument_names") or []:
            if name not in flagged:
                result["findings"].append({"rule_id": "secret-in-arguments", "severity": "critical", "line": None,
                                           "message": f"DefaultArgument {name} looks like a secret: move it to "
                                                      "AWS Secrets Manager", "source": "arguments",
                                           "argument": name})
        result["summary"] = summarise(result["findings"])
        if script.get("sha256"):
            with engine.begin() as conn:
                repository.cache_put(conn, "code_analysis_cache", cache_key, result)
        return key, result

    # pylint and bandit are CPU-bound subprocesses: one per core.
    results = dict(_parallel(sorted(jobs), work, os.cpu_count() or 2))
    context.add_output_metadata({"jobs": len(results), "cache_hits": hits,
                                 "findings": sum(len(r["findings"]) for r in results.values())})
    return results


@dg.asset(**DEEP, ins={"job_script": dg.AssetIn(), "job_code_analysis": dg.AssetIn(),
                       "job_cloudwatch_metrics": dg.AssetIn()}, kinds={"openai"})
def job_ai_review(context: dg.AssetExecutionContext, config: GlueInventoryConfig, inventory_db: InventoryDatabase,
                  job_script: dict[str, dict], job_code_analysis: dict[str, dict],
                  job_cloudwatch_metrics: dict[str, dict]) -> dict[str, dict]:
    """A structured LLM review per job (OpenAI-compatible API), or a recorded skip when no key is set."""
    settings, engine = config.settings, inventory_db.engine()
    client = ai_review.make_client(os.environ)
    model = ai_review.model_name(settings.llm, os.environ)
    records = load_job_records(engine, list(context.partition_keys))

    def work(key: str) -> tuple[str, dict]:
        script = job_script.get(key) or {}
        metrics = {"preliminary": None, "cloudwatch": (job_cloudwatch_metrics.get(key) or {}).get("rightsizing")}
        findings = (job_code_analysis.get(key) or {}).get("findings") or []
        if client is None:
            return key, ai_review.review_job(None, job=records[key].spec, metrics=metrics, findings=findings,
                                             script=None, settings=settings.llm)
        # The same prompt to the same model gets the same answer: the prompt itself is the cache key.
        messages, _ = ai_review.build_messages(records[key].spec, metrics, findings, script.get("text"),
                                               token_budget=settings.llm.token_budget)
        cache_key = ai_review.cache_key(script.get("sha256") or "none", digest(messages), model)
        with engine.connect() as conn:
            cached = repository.cache_get(conn, "llm_cache", cache_key)
        if cached is not None:
            return key, cached
        result = ai_review.review_job(client, job=records[key].spec, metrics=metrics, findings=findings,
                                      script=script.get("text"), settings=settings.llm, model=model)
        if result.get("status") == "ok":
            with engine.begin() as conn:
                repository.cache_put(conn, "llm_cache", cache_key, result)
        return key, result

    results = dict(_parallel(sorted(records), work, 4))
    statuses = [r.get("status") for r in results.values()]
    context.add_output_metadata({"reviewed": statuses.count("ok"), "skipped": statuses.count("skipped"),
                                 "errors": statuses.count("error")})
    return results


@dg.asset(**DEEP, ins={"job_script": dg.AssetIn(), "job_code_analysis": dg.AssetIn(),
                       "job_cloudwatch_metrics": dg.AssetIn(), "job_ai_review": dg.AssetIn()},
          kinds={"markdown"})
def job_deep_analysis(context: dg.AssetExecutionContext, config: GlueInventoryConfig,
                      inventory_db: InventoryDatabase, reports: ReportsLocation, job_script: dict[str, dict],
                      job_code_analysis: dict[str, dict], job_cloudwatch_metrics: dict[str, dict],
                      job_ai_review: dict[str, dict]) -> dict[str, dict]:
    """Everything known about each job compiled into recommendations with savings, and its Markdown report."""
    with inventory_db.engine().connect() as conn:
        jobs = read_jobs(conn, list(context.partition_keys))
    compiled, files = compile_deep_analysis(jobs, job_script, job_code_analysis, job_cloudwatch_metrics,
                                            job_ai_review, config.settings)
    with inventory_db.engine().begin() as conn:
        repository.insert_analysis_runs(conn, [
            {k: v for k, v in row.items() if k != "report_path"} | {"dagster_run_id": context.run_id}
            for row in compiled.values()])
    written = reports.write(files)
    context.add_output_metadata({"jobs": len(compiled), "reports": len(written)})
    return {key: {"report": row["report_path"], "recommendations": row["recommendations"]}
            for key, row in compiled.items()}


deep_assets = [job_cloudwatch_metrics, job_script, job_code_analysis, job_ai_review, job_deep_analysis]
