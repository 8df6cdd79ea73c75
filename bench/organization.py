"""An AWS Organization of many accounts: discovery, one role per account, every (account, Region) at once.

A simulated Organization of `--accounts` member accounts (default 20) under one OU, `--jobs` jobs shared
evenly, each account with jobs in us-east-1 and eu-west-1, every (account, Region) limited to
`--rate-limit` requests per second (default 10) after `--latency-ms` (20). The config has only an
`organization:` section, with `max_requests_per_second` at the rate limit as a ceiling of the adaptive
pacing (`--no-pace`: no ceiling, the pacing learns the rate alone). Figures: jobs, calls, the busiest
(account, Region)'s calls ÷ rate (the rate-limit bound) and wall time against it, the client's CPU per call
and per stored run (the simulator runs in a process of its own), for the first inventory and for a refresh
with no new runs (calls per job).

`--workers 1 2` (Postgres only) measures how the client scales with processes: for each count, a fresh
inventory and Dagster database, `glue_jobs`, then the run history of every job fetched by that many
`dagster asset materialize` commands at once, each over a contiguous block of the job partitions, as a
deployment running that many runs together would. Printed: the history phase's calls per second, its
client CPU per call (the commands' CPU, start-up included) and the machine's CPU busy share, and from
them what a machine with N cores would reach.

    .venv/bin/python bench/organization.py
    .venv/bin/python bench/organization.py --accounts 20 --jobs 4000 --database postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/organization.py --accounts 20 --jobs 2000 --workers 1 2 --database postgresql://…
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cli_pass import DAGSTER, MODULE, command_environment, partition_keys, run_command
from common import (
    AnySimulator,
    add_simulator_arguments,
    add_storage_arguments,
    dagster_instance,
    dagster_log_to,
    fleet_runs,
    log,
    machine,
    peak_rss_mb,
    pipeline_environment,
    print_table,
    ratio,
    resolve_storage_arguments,
    results_path,
    run_inventory,
    simulated_fleet,
    simulator_options,
    throwaway_database,
    throwaway_postgres,
    write_results,
)

from glue_inventory.pipeline import environment
from glue_inventory.simulate.catalog import DEFAULT_ACCOUNT_ID


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--accounts", type=int, default=20, help="member accounts (default 20)")
    parser.add_argument("--jobs", type=int, default=4000, help="jobs over all accounts (default 4000)")
    parser.add_argument("--no-pace", action="store_true",
                        help="no max_requests_per_second: the adaptive pacing finds the rate alone")
    parser.add_argument("--workers", type=int, nargs="+", default=[],
                        help="also fetch the run history with this many worker processes at once (e.g. 1 2; Postgres)")
    add_simulator_arguments(parser, latency_ms=20, rate_limit=10)
    add_storage_arguments(parser)
    return parser.parse_args(argv)


def figures(run, rate: float | None) -> dict:
    # The management account (moto's default) answers the Organizations and AssumeRole calls.
    platforms = {k: v for k, v in run.platform_calls.items() if k.split("/")[0] != DEFAULT_ACCOUNT_ID}
    busiest = max(run.platform_calls, key=run.platform_calls.get)
    bound = run.platform_calls[busiest] / rate if rate else None
    return {
        "seconds": round(run.inventory_seconds, 2),
        "seconds_by_asset": {k: round(v, 2) for k, v in run.seconds.items()},
        "jobs": run.jobs,
        "calls": run.total_calls,
        "calls_per_job": round(run.total_calls / max(1, run.jobs), 4),
        "calls_by_operation": dict(run.calls),
        "member_platforms": len(platforms),
        "busiest_platform": busiest,
        "busiest_platform_calls": run.platform_calls[busiest],
        "rate_limit_bound_s": round(bound, 2) if bound else None,
        "seconds_over_bound": ratio(run.inventory_seconds, bound) if bound else None,
        "throttled_answers": run.throttled_answers,
        "throttling_retries": sum(r["throttling_retries"] or 0 for r in run.range_runs),
        "cpu_seconds": round(run.cpu_seconds, 2),
        "cpu_ms_per_call": round(run.cpu_seconds / max(1, run.total_calls) * 1000, 2),
        "runs_fetched": sum(r["runs_fetched"] or 0 for r in run.range_runs),
        "cpu_ms_per_run_fetched": round(run.cpu_seconds / max(1, sum(r["runs_fetched"] or 0 for r in run.range_runs))
                                        * 1000, 3),
    }


def _busy_cpu_seconds() -> float:
    """Seconds the machine's CPUs spent on anything but idle and I/O wait, all cores summed (/proc/stat)."""
    with open("/proc/stat", encoding="utf-8") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def history_with_workers(args: argparse.Namespace, sim: AnySimulator, pace: float | None, workers: int,
                         log_path: Path) -> dict:
    """A fresh inventory: `glue_jobs`, then every job's run history fetched by `workers` commands at once."""
    with (tempfile.TemporaryDirectory(prefix="glue-inventory-org-workers-") as tmp,
          throwaway_database(args.database, Path(tmp)) as url, throwaway_postgres(args.database) as dagster_url):
        env = command_environment(sim, url, Path(tmp), dagster_url, pace)
        home = Path(env["DAGSTER_HOME"])
        run_command("glue_jobs", [DAGSTER, "asset", "materialize", "-m", MODULE, "--select", "glue_jobs"], env, sim,
                    log_path)
        keys = partition_keys(home)
        size = -(-len(keys) // workers)
        blocks = [keys[i:i + size] for i in range(0, len(keys), size)]
        sim.reset_call_counts()
        busy, started = _busy_cpu_seconds(), time.perf_counter()
        with log_path.open("a", encoding="utf-8") as log_file:
            processes = [subprocess.Popen([DAGSTER, "asset", "materialize", "-m", MODULE, "--select",
                                           "job_preliminary_metrics", "--partition-range", f"{b[0]}...{b[-1]}"],
                                          env=env, stdout=log_file, stderr=subprocess.STDOUT) for b in blocks]
            cpu = 0.0
            for process in processes:
                _, status, usage = os.wait4(process.pid, 0)
                process.returncode = os.waitstatus_to_exitcode(status)
                cpu += usage.ru_utime + usage.ru_stime
        seconds, busy = time.perf_counter() - started, _busy_cpu_seconds() - busy
        if any(p.returncode for p in processes):
            raise RuntimeError(f"a history command failed: see {log_path}")
        calls = sum(sim.call_counts.values())
        spans = sim.platform_call_spans
        api = max(s[1] for s in spans.values()) - min(s[0] for s in spans.values())
        return {"workers": workers, "jobs": len(keys), "calls": calls, "throttled": calls - sim.answered,
                "seconds": round(seconds, 2), "api_phase_s": round(api, 2),
                "calls_per_s": round(calls / api, 1), "client_cpu_s": round(cpu, 2),
                "client_cpu_ms_per_call": round(cpu / max(1, calls) * 1000, 2),
                "machine_busy_share": round(busy / (seconds * (os.cpu_count() or 1)), 3)}


def n_core_estimate(scaling: list[dict], cores: int, rate_bound_calls_per_s: float) -> float:
    """Calls per second a client with `cores` worker processes (one per core, the simulator elsewhere) would
    reach: each process at the measured one-process rate, capped by the Organization's rate limits."""
    one = next(r for r in scaling if r["workers"] == 1)
    return round(min(cores * one["calls_per_s"], rate_bound_calls_per_s), 1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    resolve_storage_arguments(args)
    options = simulator_options(args, args.jobs, accounts=args.accounts)
    pace = None if args.no_pace else options.rate_limit
    results: dict = {"accounts": args.accounts, "simulator": options.label(), "paced": pace is not None,
                     "database": args.database.split("@")[-1], "machine": machine()}
    path = results_path(f"organization-{args.accounts}")
    with (tempfile.TemporaryDirectory(prefix="glue-inventory-org-") as tmp,
          throwaway_database(args.database, Path(tmp)) as url,
          dagster_instance(args.dagster_storage, Path(tmp), args.dagster_postgres) as instance,
          dagster_log_to(path.with_suffix(".dagster.log"))):
        with (simulated_fleet(options, datetime.now(UTC)) as sim,
              environment(pipeline_environment(sim, url, Path(tmp), pace=pace))):
            results["runs_in_fleet"] = fleet_runs(sim)
            for name in ("full", "refresh"):
                log(f"{args.accounts} accounts, {args.jobs} jobs: {name} inventory")
                run = run_inventory(instance, sim, lambda done, total: log(f"  range run {done}/{total}"))
                results[name] = figures(run, options.rate_limit)
                log(f"  {run.inventory_seconds:.1f}s, {run.total_calls} calls, {run.throttled_answers} throttled")
            for workers in args.workers:
                log(f"run history with {workers} worker process(es)")
                results.setdefault("scaling", []).append(
                    history_with_workers(args, sim, pace, workers, path.with_suffix(".workers.log")))
                log(f"  {results['scaling'][-1]}")
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    rows = [[label, *(results[name][key] for name in ("full", "refresh"))] for label, key in (
        ("jobs", "jobs"), ("member platforms (account × Region) called", "member_platforms"),
        ("API calls", "calls"), ("API calls per job", "calls_per_job"),
        ("busiest account and Region", "busiest_platform"), ("  its calls", "busiest_platform_calls"),
        ("rate-limit bound: its calls ÷ rate (s)", "rate_limit_bound_s"), ("wall time (s)", "seconds"),
        ("wall time ÷ bound", "seconds_over_bound"), ("throttled answers (simulator)", "throttled_answers"),
        ("throttling retries (client)", "throttling_retries"), ("client CPU (s)", "cpu_seconds"),
        ("client CPU per call (ms)", "cpu_ms_per_call"), ("runs fetched and stored", "runs_fetched"),
        ("client CPU per run fetched (ms)", "cpu_ms_per_run_fetched"))]
    rows += [[f"  {asset} (s)", *(results[name]["seconds_by_asset"][asset] for name in ("full", "refresh"))]
             for asset in results["full"]["seconds_by_asset"]]
    paced = f"ceiling {pace}/s" if pace else "no ceiling"
    print_table(f"Organization benchmark: {args.accounts} accounts, {results['runs_in_fleet']:,} runs; "
                f"{options.label()}; {paced}", ["", "full inventory", "refresh"], rows)
    if results.get("scaling"):
        print_scaling(results, args, options.rate_limit)
    write_results(path, {"args": vars(args), "results": results})
    print(f"results: {path}")
    return 0


def print_scaling(results: dict, args: argparse.Namespace, rate: float | None) -> None:
    scaling = results["scaling"]
    rows = [[label, *(r[key] for r in scaling)] for label, key in (
        ("jobs", "jobs"), ("API calls (history)", "calls"), ("throttled answers", "throttled"),
        ("history phase, wall (s)", "seconds"), ("first call to last (s)", "api_phase_s"),
        ("calls per second", "calls_per_s"), ("client CPU (s, start-up included)", "client_cpu_s"),
        ("client CPU per call (ms)", "client_cpu_ms_per_call"), ("machine CPU busy share", "machine_busy_share"))]
    print_table(f"Worker processes fetching the run history ({os.cpu_count()} cores, simulator included)",
                ["", *(f"{r['workers']} process(es)" for r in scaling)], rows)
    if rate and any(r["workers"] == 1 for r in scaling):
        # The Organization's limit: every member (account, Region) at `rate` requests per second.
        bound = rate * 2 * args.accounts
        estimate = {cores: n_core_estimate(scaling, cores, bound) for cores in (1, 2, 4, 8, 16)}
        results["n_core_estimate_calls_per_s"] = estimate
        print("N cores (one worker process each, the AWS side elsewhere) → calls per second, capped at the "
              f"Organization's {bound:.0f}/s: " + ", ".join(f"{n}: {v}" for n, v in estimate.items()))


if __name__ == "__main__":
    sys.exit(main())
