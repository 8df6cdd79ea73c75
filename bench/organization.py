"""An AWS Organization of many accounts: discovery, one role per account, every (account, Region) at once.

A simulated Organization of `--accounts` member accounts (default 20) under one OU, `--jobs` jobs shared
evenly, each account with jobs in us-east-1 and eu-west-1, every (account, Region) limited to
`--rate-limit` requests per second (default 10) after `--latency-ms` (20). The config has only an
`organization:` section, with `max_requests_per_second` at the rate limit as a ceiling of the adaptive
pacing (`--no-pace`: no ceiling, the pacing learns the rate alone). Figures: jobs, calls, the busiest
(account, Region)'s calls ÷ rate (the rate-limit bound) and wall time against it, the client's CPU per call
and per stored run (the simulator runs in a process of its own), for the first inventory and for a refresh
with no new runs (calls per job).

    .venv/bin/python bench/organization.py
    .venv/bin/python bench/organization.py --accounts 20 --jobs 4000 --database postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from common import (
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
    write_results(path, {"args": vars(args), "results": results})
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
