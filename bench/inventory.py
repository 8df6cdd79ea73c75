"""Inventory speed and API cost: the pipeline against a naive sequential boto3 loop on one simulated fleet.

A simulated fleet (default 1,000 jobs, ~116k runs) answers every call after `--latency-ms` (100 ms:
a cross-region client). Three passes, each counted by the simulator:
  1. the naive loop: GetJobs pages, then per job GetJob and every GetJobRuns page, one call at a time;
  2. the pipeline's full inventory into a fresh database (glue_jobs → job_preliminary_metrics in range
     runs → deep_analysis_candidates), as `make demo` runs it;
  3. the same again with no new runs (a refresh).
Targets: the full inventory ≥ 8× faster than the naive loop; ≤ 1.05 API calls per job on a refresh.

    .venv/bin/python bench/inventory.py --jobs 1000 --latency-ms 100
    .venv/bin/python bench/inventory.py --database postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import dagster as dg
from common import (
    InventoryRun,
    add_simulator_arguments,
    add_storage_arguments,
    dagster_instance,
    dagster_log_to,
    fleet_runs,
    log,
    machine,
    naive_pass,
    peak_rss_mb,
    pipeline_environment,
    print_table,
    ratio,
    resolve_storage_arguments,
    results_path,
    run_inventory,
    simulated_fleet,
    simulator_options,
    stored_runs,
    throwaway_database,
    write_results,
)

from glue_inventory import DAGSTER_SPEED_ENV
from glue_inventory.pipeline import environment

TARGET_SPEEDUP = 8.0  # issue #3
TARGET_SPEEDUP_AT_SCALE = 10.0  # issue #7, at 100 ms latency and no rate limit
TARGET_REFRESH_CALLS_PER_JOB = 1.05


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=1000, help="simulated Glue jobs (default 1000)")
    add_simulator_arguments(parser, latency_ms=100, rate_limit=None)
    add_storage_arguments(parser)
    parser.add_argument("--skip-naive", action="store_true", help="only the pipeline (no speed-up figure)")
    parser.add_argument("--without-dagster-env", action="store_true",
                        help="add a refresh with DAGSTER_EVENT_BATCH_SIZE and "
                             "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS unset")
    args = parser.parse_args(argv)
    resolve_storage_arguments(args)
    return args


def pipeline_pass(instance: dg.DagsterInstance, sim, label: str) -> InventoryRun:
    log(f"pipeline, {label}: starting")
    run = run_inventory(instance, sim, lambda done, total: log(f"pipeline, {label}: range run {done}/{total} done"))
    log(f"pipeline, {label}: {run.inventory_seconds:.1f}s, {run.total_calls} calls")
    return run


def summarise(run: InventoryRun, runs_stored: int | None, rss_mb: float) -> dict:
    retries = [r["throttling_retries"] or 0 for r in run.range_runs]
    return {
        "seconds": round(run.inventory_seconds, 2),
        "seconds_by_asset": {k: round(v, 2) for k, v in run.seconds.items()},
        "cpu_seconds": round(run.cpu_seconds, 2),
        "jobs": run.jobs,
        "calls": run.total_calls,
        "calls_by_operation": dict(run.calls),
        "calls_per_job": round(run.total_calls / max(1, run.jobs), 4),
        "get_job_runs_per_job": round(run.calls["GetJobRuns"] / max(1, run.jobs), 4),
        "runs_stored": runs_stored,
        "runs_fetched": sum(r.get("runs_fetched") or 0 for r in run.range_runs),
        "throttling_retries": sum(retries),
        "throttled_answers": run.throttled_answers,
        "range_runs": run.range_runs,
        "peak_rss_mb": round(rss_mb, 1),
    }


def measure(args: argparse.Namespace) -> dict:
    options = simulator_options(args, args.jobs)
    results: dict = {"args": vars(args), "simulator": options.label(), "machine": machine()}
    path = results_path("inventory")
    dagster_log = path.with_suffix(".dagster.log")
    with (tempfile.TemporaryDirectory(prefix="glue-inventory-bench-") as tmp,
          simulated_fleet(options) as sim):
        workdir = Path(tmp)
        results["fleet"] = {"jobs": sim.summary.jobs, "runs": fleet_runs(sim), "regions": sim.summary.regions}
        with (throwaway_database(args.database, workdir) as url,
              environment(pipeline_environment(sim, url, workdir))):
            if not args.skip_naive:
                results["naive"] = naive_pass(sim)
            log(f"Dagster's log: {dagster_log}")
            with (dagster_instance(args.dagster_storage, workdir, args.dagster_postgres) as instance,
                  dagster_log_to(dagster_log)):
                full = pipeline_pass(instance, sim, "full inventory")
                results["full"] = summarise(full, stored_runs(url), peak_rss_mb())
                refresh = pipeline_pass(instance, sim, "refresh, no new runs")
                results["refresh"] = summarise(refresh, stored_runs(url), peak_rss_mb())
                if args.without_dagster_env:
                    with environment(dict.fromkeys(DAGSTER_SPEED_ENV)):
                        bare = pipeline_pass(instance, sim, "refresh, Dagster speed env unset")
                    results["refresh_without_dagster_env"] = summarise(bare, stored_runs(url), peak_rss_mb())
    results["load_avg_1m_at_end"] = os.getloadavg()[0]
    results["dagster_log"] = str(dagster_log)
    results["path"] = str(path)
    write_results(path, results)
    return results


def report(results: dict) -> bool:
    passes = [key for key in ("full", "refresh", "refresh_without_dagster_env") if key in results]
    columns = (["naive"] if "naive" in results else []) + passes
    labels = {"naive": "naive boto3 loop", "full": "pipeline: full", "refresh": "pipeline: refresh",
              "refresh_without_dagster_env": "refresh, no Dagster env"}
    data = [results[c] for c in columns]
    operations = sorted({op for d in data for op in d["calls_by_operation"]})
    rows: list[list[object]] = [["wall time (s)", *(d["seconds"] for d in data)]]
    for asset in ("glue_jobs", "job_preliminary_metrics", "deep_analysis_candidates"):
        rows.append([f"  {asset} (s)", *(d.get("seconds_by_asset", {}).get(asset) for d in data)])
    rows.append(["  Dagster runs of job_preliminary_metrics", *(len(d["range_runs"]) if "range_runs" in d else None
                                                                for d in data)])
    rows.append(["CPU time of this process (s)", *(d["cpu_seconds"] for d in data)])
    rows.append(["API calls (simulator count)", *(d["calls"] for d in data)])
    rows += [[f"  {op}", *(d["calls_by_operation"].get(op, 0) for d in data)] for op in operations]
    rows.append(["API calls per job", *(d["calls_per_job"] for d in data)])
    rows.append(["  GetJobRuns per job", *(d["get_job_runs_per_job"] for d in data)])
    rows.append(["throttled answers (simulator)", *(d["throttled_answers"] for d in data)])
    rows.append(["throttling retries (client)", *(d.get("throttling_retries") for d in data)])
    rows.append(["runs fetched", *(d["runs_fetched"] for d in data)])
    rows.append(["runs stored in job_runs", *(d.get("runs_stored") for d in data)])
    rows.append(["peak RSS of the process so far (MB)", *(d["peak_rss_mb"] for d in data)])
    naive = results.get("naive")
    if naive:
        rows.append(["speed-up (naive ÷ this)", None, *(ratio(naive["seconds"], d["seconds"]) for d in data[1:])])
        rows.append(["fewer calls (naive ÷ this)", None, *(ratio(naive["calls"], d["calls"]) for d in data[1:])])
    fleet = results["fleet"]
    args = results["args"]
    print_table(f"Inventory benchmark: {fleet['jobs']} jobs, {fleet['runs']} runs; simulator: {results['simulator']}; "
                f"database {args['database'].split('@')[-1]}, Dagster storage {args['dagster_storage']}",
                ["", *(labels[c] for c in columns)], rows)
    ok = True
    print()
    if naive:
        speedup = naive["seconds"] / results["full"]["seconds"]
        for target in (TARGET_SPEEDUP, TARGET_SPEEDUP_AT_SCALE):
            ok &= speedup >= target
            print(f"target: full inventory ≥ {target:g}× faster than the naive loop: {speedup:.1f}× — "
                  f"{'met' if speedup >= target else 'NOT met'}")
    per_job = results["refresh"]["calls_per_job"]
    ok &= per_job <= TARGET_REFRESH_CALLS_PER_JOB
    print(f"target: refresh ≤ {TARGET_REFRESH_CALLS_PER_JOB} API calls per job: {per_job:.3f} — "
          f"{'met' if per_job <= TARGET_REFRESH_CALLS_PER_JOB else 'NOT met'}")
    print(f"results: {results['path']}")
    return ok


def main(argv: list[str] | None = None) -> int:
    results = measure(parse_args(argv))
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
