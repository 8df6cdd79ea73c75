"""How the inventory scales: fleets of 1k/5k/10k jobs behind an API rate limit (issues 7 and 27).

By default, as a user runs it: three `dagster asset materialize` commands (`glue_jobs`, every partition of
`job_preliminary_metrics` in one run, `deep_analysis_candidates`), each a process of its own, with Dagster's
storage and the inventory on Postgres and no rate in the config; twice (the first inventory, then a refresh
that starts from the learned rates). Printed: wall time and API phases against the rate bound, throttled
answers, the fixed costs (time outside the API phases, per command: start-up to the first call, last call
to exit; the import time of `glue_inventory.definitions`) and the peak RSS of each command's process tree.
Per command, its API phase over its own calls' bound too: the run history apart from the job listing, whose
pages come one after another at the server's pace.
Then Dagster's floor: the same three commands on the same instance over a code location whose assets do
nothing (`dagster_floor.py`: the same partitions), what any Dagster code location pays for them here; the
time outside the API phases above it is the inventory's own.

    .venv/bin/python bench/scale.py --jobs 5000 --database postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/scale.py --jobs 5000 --burst 1 --database postgresql://…   # AWS's bucket size is unknown

`--tracemalloc` says what holds the memory: every Python process of each command traces its allocations
(bench/memory_peak/sitecustomize.py) and reports the top allocation sites and packages at its peak of traced
memory. Tracing slows the commands severalfold: the timing figures of such a run are not comparable.

`--in-process` measures the earlier way instead. Per fleet size and database, in a process of its own (so
peak RSS is that size's):
  1. full inventory and a refresh with no new runs through the real Dagster assets, against a simulator
     answering after `--latency-ms` (20) and throttling above `--rate-limit` (50 requests/s): wall time
     against the rate-limit bound (calls ÷ rate), calls by operation, throttled answers and client retries;
  2. orchestration overhead per partition: on a simulator with no latency and no limit, the refresh's
     `job_preliminary_metrics` as Dagster runs minus the same work (same runner, same table writes)
     without Dagster, divided by the number of partitions.

    .venv/bin/python bench/scale.py --jobs 1000
    .venv/bin/python bench/scale.py --jobs 1000 5000 10000 --database sqlite postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from cli_pass import cli_inventory, command_environment, import_seconds, partition_keys
from cli_pass import pass_figures as cli_pass_figures
from common import (
    InventoryRun,
    add_simulator_arguments,
    add_storage_arguments,
    dagster_instance,
    dagster_log_to,
    direct_preliminary,
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
    throwaway_postgres,
    write_results,
)
from dagster_floor import floor_seconds

from glue_inventory.orchestration.partitions import glue_jobs_partitions
from glue_inventory.pipeline import environment


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1000], help="fleet sizes (default 1000)")
    add_simulator_arguments(parser, latency_ms=20, rate_limit=50)
    add_storage_arguments(parser, several=True)
    parser.add_argument("--skip-overhead", action="store_true", help="skip the orchestration-overhead measurement")
    parser.add_argument("--pace", action="store_true",
                        help="pace each account and Region at --rate-limit (max_requests_per_second in the config) "
                             "instead of leaning on throttling and botocore's adaptive retries")
    parser.add_argument("--skip-naive", action="store_true",
                        help="skip the naive sequential loop (about 25 minutes for 10,000 jobs at 50 requests/s)")
    parser.add_argument("--in-process", action="store_true",
                        help="the earlier measurement: the assets materialized in this process, the refresh in "
                             "range runs, the orchestration overhead and the naive loop (default: the three CLI "
                             "commands, with Postgres for both stores)")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="say what holds the memory: each command's Python processes trace allocations and "
                             "report the top sites and packages at their peak of traced memory (slows the "
                             "commands: the run's timings are not comparable; not with --in-process)")
    parser.add_argument("--unpooled-dagster-storage", action="store_true",
                        help="Dagster's storage as dagster-postgres configures it (a new connection for each of its "
                             "reads and writes) instead of the template's pooled one: the before of docs/SCALING.md")
    parser.add_argument("--json-out", type=Path, help=argparse.SUPPRESS)  # one size, run by a parent scale.py
    return parser.parse_args(argv)


def pass_figures(run: InventoryRun, rate_limit: float | None) -> dict:
    """The simulator, like AWS, limits each account and Region on its own: the bound is the busiest (account,
    Region)'s calls ÷ rate. `single_limit_bound_s` is every call ÷ rate, the bound if one limit covered all."""
    busiest = max(run.platform_calls, key=run.platform_calls.__getitem__) if run.platform_calls else None
    bound = run.platform_calls[busiest] / rate_limit if rate_limit and busiest else None
    single = run.total_calls / rate_limit if rate_limit else None
    # The run-history phase holds nearly every call: its own wall time against its own bound says how close
    # the pacing gets, without the job listing's parsing and storing or the candidate step (no calls).
    history_bound = (max(run.history_platform_calls.values()) / rate_limit
                     if rate_limit and run.history_platform_calls else None)
    history_seconds = run.seconds.get("job_preliminary_metrics", 0.0)
    # The pacing itself: the busiest platform's calls from the first (the listing) to the last, as the
    # simulator saw them arrive. Work that makes no call (Dagster starting and ending runs, its events per
    # partition, the candidate step) is outside; the gaps between the steps' calls are inside.
    first, last = run.platform_spans.get(busiest, (0.0, 0.0))
    return {
        "seconds": round(run.inventory_seconds, 2),
        "seconds_by_asset": {k: round(v, 2) for k, v in run.seconds.items()},
        "rate_limit_bound_s": round(bound, 2) if bound else None,
        "seconds_over_bound": ratio(run.inventory_seconds, bound) if bound else None,
        "single_limit_bound_s": round(single, 2) if single else None,
        "calls_span_s": round(last - first, 2),
        "calls_span_over_bound": ratio(last - first, bound) if bound else None,
        "history_bound_s": round(history_bound, 2) if history_bound else None,
        "history_seconds_over_bound": ratio(history_seconds, history_bound) if history_bound else None,
        "calls_by_region": dict(run.region_calls),
        "calls_by_platform": dict(run.platform_calls),
        "calls": run.total_calls,
        "calls_by_operation": dict(run.calls),
        "calls_per_job": round(run.total_calls / max(1, run.jobs), 4),
        "throttled_answers": run.throttled_answers,
        "throttling_retries": sum(r["throttling_retries"] or 0 for r in run.range_runs),
        "range_runs": run.range_runs,
        "cpu_seconds": round(run.cpu_seconds, 2),
    }


def measure_one(args: argparse.Namespace, jobs: int, database: str) -> dict:
    options = simulator_options(args, jobs)
    results: dict = {"jobs": jobs, "database": database.split("@")[-1], "dagster_storage": args.dagster_storage,
                     "simulator": options.label(), "paced": args.pace, "machine": machine()}
    dagster_log = results_path(f"scale-{jobs}").with_suffix(".dagster.log")
    now = datetime.now(UTC)
    with (tempfile.TemporaryDirectory(prefix="glue-inventory-scale-") as tmp,
          throwaway_database(database, Path(tmp)) as url,
          dagster_instance(args.dagster_storage, Path(tmp), args.dagster_postgres) as instance,
          dagster_log_to(dagster_log)):
        workdir = Path(tmp)
        pace = options.rate_limit if args.pace else None
        with simulated_fleet(options, now) as sim, environment(pipeline_environment(sim, url, workdir, pace=pace)):
            results["runs_in_fleet"] = fleet_runs(sim)
            if not args.skip_naive:
                results["naive"] = naive_pass(sim)
            for name in ("full", "refresh"):
                log(f"{jobs} jobs, {database.split('@')[-1]}: {name} inventory")
                run = run_inventory(instance, sim, lambda done, total: log(f"  range run {done}/{total}"))
                results[name] = pass_figures(run, options.rate_limit)
                log(f"  {run.inventory_seconds:.1f}s, {run.total_calls} calls, {run.throttled_answers} throttled")
            results["runs_stored"] = stored_runs(url)
        if not args.skip_overhead:
            free = dataclasses.replace(options, latency_ms=0, rate_limit=None)
            with simulated_fleet(free, now) as sim, environment(pipeline_environment(sim, url, workdir)):
                results["overhead"] = overhead(instance, sim)
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    results["dagster_log"] = str(dagster_log)
    return results


def measure_cli(args: argparse.Namespace, jobs: int, database: str) -> dict:
    """The three commands twice (first inventory, refresh), as a user types them, Postgres for both stores."""
    if database == "sqlite":
        raise SystemExit("the CLI measurement keeps both stores on Postgres: give --database postgresql://…")
    options = simulator_options(args, jobs)
    results: dict = {"jobs": jobs, "database": database.split("@")[-1],
                     "dagster_storage": f"postgres (CLI{', unpooled' if args.unpooled_dagster_storage else ''})",
                     "simulator": options.label(), "paced": args.pace, "machine": machine(), "mode": "cli"}
    log_path = results_path(f"scale-cli-{jobs}").with_suffix(".dagster.log")
    now = datetime.now(UTC)
    with (tempfile.TemporaryDirectory(prefix="glue-inventory-scale-") as tmp,
          throwaway_database(database, Path(tmp)) as url, throwaway_postgres(database) as dagster_url):
        pace = options.rate_limit if args.pace else None
        with simulated_fleet(options, now) as sim:
            env = command_environment(sim, url, Path(tmp), dagster_url, pace, not args.unpooled_dagster_storage)
            home = Path(env["DAGSTER_HOME"])
            results["runs_in_fleet"] = fleet_runs(sim)
            results["import_definitions_s"] = round(import_seconds(env), 2)
            log(f"import glue_inventory.definitions: {results['import_definitions_s']:.2f}s")
            for name in ("full", "refresh"):
                log(f"{jobs} jobs: {name} inventory (three dagster commands)")
                commands = cli_inventory(env, home, sim, log_path, log, args.tracemalloc)
                results[name] = cli_pass_figures(commands, options.rate_limit)
                log(f"  {results[name]['seconds']:.1f}s = {results[name]['seconds_over_bound']}x the bound, API "
                    f"phases {results[name]['api_phases_over_bound']}x, {results[name]['throttled_answers']} "
                    f"throttled of {results[name]['calls']} calls")
            results["runs_stored"] = stored_runs(url)
            if not args.tracemalloc:
                log("Dagster's floor: the same three commands over a code location that does nothing")
                results["dagster_floor_s"] = floor_seconds(env, partition_keys(home), log_path)
                log(f"  {results['dagster_floor_s']}")
    results["dagster_log"] = str(log_path)
    return results


def overhead(instance: dg.DagsterInstance, sim) -> dict:
    log("orchestration overhead: refresh with Dagster, then the same work without it (no latency, no limit)")
    with_dagster = run_inventory(instance, sim).seconds["job_preliminary_metrics"]
    keys = instance.get_dynamic_partitions(glue_jobs_partitions.name)
    without = direct_preliminary(keys)
    per_partition_ms = (with_dagster - without) / max(1, len(keys)) * 1000
    log(f"  {with_dagster:.1f}s with Dagster, {without:.1f}s without: {per_partition_ms:.1f} ms per partition")
    return {"partitions": len(keys), "with_dagster_s": round(with_dagster, 2), "without_dagster_s": round(without, 2),
            "per_partition_ms": round(per_partition_ms, 2)}


def child_argv(args: argparse.Namespace, jobs: int, database: str, out: str) -> list[str]:
    argv = ["--jobs", str(jobs), "--database", database, "--json-out", out, "--latency-ms", str(args.latency_ms),
            "--rate-limit", str(args.rate_limit or 0), "--seed", str(args.seed),
            "--dagster-postgres", args.dagster_postgres]
    if args.burst:
        argv += ["--burst", str(args.burst)]
    if args.dagster_storage:
        argv += ["--dagster-storage", args.dagster_storage]
    flags = {"--simulator-in-process": args.simulator_in_process, "--skip-overhead": args.skip_overhead,
             "--skip-naive": args.skip_naive, "--pace": args.pace, "--in-process": args.in_process,
             "--tracemalloc": args.tracemalloc, "--unpooled-dagster-storage": args.unpooled_dagster_storage}
    return argv + [flag for flag, on in flags.items() if on]


def run_children(args: argparse.Namespace) -> list[dict]:
    """One child process per (size, database): ru_maxrss is a process's high-water mark."""
    results = []
    for database in args.database:
        for jobs in args.jobs:
            with tempfile.NamedTemporaryFile(suffix=".json") as out:
                subprocess.run([sys.executable, __file__, *child_argv(args, jobs, database, out.name)], check=True)
                results.append(json.loads(Path(out.name).read_text(encoding="utf-8")))
    return results


def report_cli(results: list[dict]) -> None:
    headers = ["", *(f"{r['jobs']:,} jobs" for r in results)]
    rows: list[list[object]] = [["runs in the fleet", *(r["runs_in_fleet"] for r in results)],
                                ["import glue_inventory.definitions (s)",
                                 *(r["import_definitions_s"] for r in results)]]
    for name, title in (("full", "first inventory"), ("refresh", "refresh (second inventory, learned rates)")):
        passes = [r[name] for r in results]
        rows.append([f"{title}: wall time (s)", *(p["seconds"] for p in passes)])
        rows.append(["  rate bound: busiest account and Region's calls ÷ rate (s)",
                     *(p["rate_limit_bound_s"] for p in passes)])
        rows.append(["  wall time ÷ bound", *(p["seconds_over_bound"] for p in passes)])
        rows.append(["  API phases (first call to last, per command) (s)", *(p["api_phases_s"] for p in passes)])
        rows.append(["  API phases ÷ bound", *(p["api_phases_over_bound"] for p in passes)])
        rows.append(["  outside the API phases (s)", *(p["outside_api_s"] for p in passes)])
        for command in ("glue_jobs", "job_preliminary_metrics", "deep_analysis_candidates"):
            figures = [p["commands"][command] for p in passes]
            rows.append([f"    {command}: wall (s)", *(f["seconds"] for f in figures)])
            rows.append(["      start to first call (s)", *(f["to_first_call_s"] for f in figures)])
            rows.append(["      API phase (s)", *(f["api_phase_s"] for f in figures)])
            rows.append(["      API phase ÷ its own calls' bound",
                         *(f.get("api_phase_over_its_bound") for f in figures)])
            rows.append(["      last call to exit (s)", *(f["after_last_call_s"] for f in figures)])
            rows.append(["      calls / throttled", *(f"{f['calls']} / {f['throttled']}" for f in figures)])
            rows.append(["      connections to Dagster's storage", *(f.get("dagster_connections") for f in figures)])
            rows.append(["      peak RSS of the process tree (MB)", *(f["tree_peak_rss_mb"] for f in figures)])
            rows.append(["      largest process of the tree, peak RSS (MB)",
                         *(f.get("largest_process_rss_mb") for f in figures)])
        rows.append(["  API calls", *(p["calls"] for p in passes)])
        rows.append(["  API calls per job", *(p["calls_per_job"] for p in passes)])
        rows.append(["  throttled answers (simulator)", *(p["throttled_answers"] for p in passes)])
        rows.append(["  throttled share of calls", *(p["throttled_share"] for p in passes)])
        rows.append(["  peak RSS of a command's process tree (MB)", *(p["tree_peak_rss_mb"] for p in passes)])
        metadata = [p["preliminary_metadata"] for p in passes]
        for key in sorted({k for m in metadata for k in m if "rate" in k or "throttl" in k}):
            rows.append([f"  job_preliminary_metrics metadata: {key}", *(m.get(key) for m in metadata)])
    if all("dagster_floor_s" in r for r in results):
        # What any Dagster code location pays for the same three commands and partitions (bench/dagster_floor.py).
        floors = [sum(r["dagster_floor_s"].values()) for r in results]
        rows.append(["Dagster's floor: the three commands, assets that do nothing (s)", *floors])
        for command in ("floor_jobs", "floor_metrics", "floor_candidates"):
            rows.append([f"  {command} (s)", *(r["dagster_floor_s"][command] for r in results)])
        for name in ("full", "refresh"):
            rows.append([f"{name}: outside the API phases above the floor (s)",
                         *(round(r[name]["outside_api_s"] - f, 2) for r, f in zip(results, floors, strict=True))])
    rows.append(["runs stored in job_runs", *(r["runs_stored"] for r in results)])
    paced = "max_requests_per_second at the rate limit" if results[0]["paced"] else "no rate in the config"
    print_table(f"Scale benchmark, three dagster commands; simulator: {results[0]['simulator']}; {paced}",
                headers, rows)
    report_tracemalloc(results)


def report_tracemalloc(results: list[dict]) -> None:
    """Per command, what held the traced memory of its largest Python process at that process's peak."""
    for result in results:
        for name in ("full", "refresh"):
            for command, figures in result[name]["commands"].items():
                if not figures.get("tracemalloc"):
                    continue
                largest = figures["tracemalloc"][0]
                print(f"\n{result['jobs']:,} jobs, {name}, {command} ({len(figures['tracemalloc'])} Python "
                      f"process(es) reported): the largest's peak traced {largest['peak_traced_mb']:.1f} MB; at its "
                      f"snapshot ({largest['snapshot_traced_mb']:.1f} MB traced, tracemalloc's own "
                      f"{largest['tracemalloc_own_mb']:.1f} MB) the top sites:")
                for entry in largest["top_lines"][:10]:
                    print(f"  {entry['mb']:8.1f} MB {entry['count']:>9,} blocks  {entry['file']}:{entry['line']}")
                print("  by package: " + ", ".join(f"{p['package']} {p['mb']:.1f} MB"
                                                   for p in largest["top_packages"][:8]))


def report(results: list[dict]) -> None:
    headers = ["", *(f"{r['jobs']:,} jobs, {r['database']} (Dagster {r['dagster_storage']})" for r in results)]
    rows: list[list[object]] = [["runs in the fleet", *(r["runs_in_fleet"] for r in results)]]
    if all("naive" in r for r in results):
        rows.append(["naive loop: wall time (s)", *(r["naive"]["seconds"] for r in results)])
        rows.append(["  API calls", *(r["naive"]["calls"] for r in results)])
        rows.append(["  full inventory faster by", *(ratio(r["naive"]["seconds"], r["full"]["seconds"])
                                                     for r in results)])
    for name in ("full", "refresh"):
        passes = [r[name] for r in results]
        rows.append([f"{name}: wall time (s)", *(p["seconds"] for p in passes)])
        for asset in ("glue_jobs", "job_preliminary_metrics", "deep_analysis_candidates"):
            rows.append([f"  {asset} (s)", *(p["seconds_by_asset"][asset] for p in passes)])
        rows.append(["  rate-limit bound: busiest account and Region's calls ÷ rate (s)",
                     *(p["rate_limit_bound_s"] for p in passes)])
        rows.append(["  wall time ÷ bound", *(p["seconds_over_bound"] for p in passes)])
        rows.append(["  busiest account and Region: first call to last (s)", *(p["calls_span_s"] for p in passes)])
        rows.append(["    ÷ bound (the pacing: no Dagster run start or end, no candidate step)",
                     *(p["calls_span_over_bound"] for p in passes)])
        rows.append(["  run-history phase (job_preliminary_metrics) ÷ its own bound",
                     *(p.get("history_seconds_over_bound") for p in passes)])
        rows.append(["  (all calls ÷ rate, one limit for every Region) (s)",
                     *(p["single_limit_bound_s"] for p in passes)])
        rows.append(["  API calls", *(p["calls"] for p in passes)])
        operations = sorted({op for p in passes for op in p["calls_by_operation"]})
        rows += [[f"    {op}", *(p["calls_by_operation"].get(op, 0) for p in passes)] for op in operations]
        regions = sorted({region for p in passes for region in p["calls_by_region"]})
        rows += [[f"    in {region or 'unsigned'}", *(p["calls_by_region"].get(region, 0) for p in passes)]
                 for region in regions]
        rows.append(["  API calls per job", *(p["calls_per_job"] for p in passes)])
        rows.append(["  throttled answers (simulator)", *(p["throttled_answers"] for p in passes)])
        rows.append(["  throttling retries (client, metadata)", *(p["throttling_retries"] for p in passes)])
        rows.append(["  CPU time of the process (s)", *(p["cpu_seconds"] for p in passes)])
    if all("overhead" in r for r in results):
        rows.append(["overhead: job_preliminary_metrics with Dagster (s)",
                     *(r["overhead"]["with_dagster_s"] for r in results)])
        rows.append(["  same work without Dagster (s)", *(r["overhead"]["without_dagster_s"] for r in results)])
        rows.append(["  orchestration overhead per partition (ms)",
                     *(r["overhead"]["per_partition_ms"] for r in results)])
    rows.append(["runs stored in job_runs", *(r["runs_stored"] for r in results)])
    rows.append(["peak RSS (MB)", *(r["peak_rss_mb"] for r in results)])
    paced = "paced at the rate limit" if results[0]["paced"] else "not paced (adaptive retries)"
    print_table(f"Scale benchmark; simulator: {results[0]['simulator']}; requests {paced}", headers, rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.json_out:
        args.database = args.database[0]
        resolve_storage_arguments(args)
        measure = measure_one if args.in_process else measure_cli
        write_results(args.json_out, measure(args, args.jobs[0], args.database))
        return 0
    results = run_children(args)
    (report if args.in_process else report_cli)(results)
    path = results_path("scale")
    write_results(path, {"args": vars(args), "results": results})
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
