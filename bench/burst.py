"""Requests paced at a fixed rate against a small bucket: how evenly they arrive, nothing else running.

A simulator in a child process (`--jobs` jobs, `--latency-ms` per call, `--rate-limit` requests per second per
account and Region, a bucket of `--burst` requests); for each rate of `--rates`, `--calls` GetJobRuns calls from
`--threads` threads through one client paced by a fixed limiter (`AdaptiveLimiter(fixed=True)`: evenly spaced,
nothing learned), no retries. Printed: the share of calls throttled and the calls per second reached. With a
bucket of one request, any two requests that arrive closer than 1/limit apart are throttled, so the share
throttled below the limit measures the jitter between a request leaving the limiter and the server charging
it (docs/SCALING.md, "Other bucket sizes").

    .venv/bin/python bench/burst.py
    .venv/bin/python bench/burst.py --burst 1 --rates 40 45 48 50 52
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from common import SimulatorOptions, SimulatorProcess, log, machine, print_table, results_path, write_results

from glue_inventory.aws.pacing import AdaptiveLimiter, pace


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[40, 45, 48, 50, 52],
                        help="requests per second to pace at (default 40 45 48 50 52)")
    parser.add_argument("--burst", type=float, default=1, help="the simulator's bucket, in requests (default 1)")
    parser.add_argument("--rate-limit", type=float, default=50, help="the simulator's limit per second (default 50)")
    parser.add_argument("--calls", type=int, default=600, help="calls per rate (default 600)")
    parser.add_argument("--threads", type=int, default=16, help="calling threads (default 16)")
    parser.add_argument("--jobs", type=int, default=1000, help="jobs in the simulated fleet (default 1000)")
    parser.add_argument("--latency-ms", type=int, default=20, help="added latency per call (default 20)")
    return parser.parse_args(argv)


def glue_client(env: dict[str, str], attempts: int, pool: int = 10):
    return boto3.client("glue", region_name="us-east-1", endpoint_url=env["AWS_ENDPOINT_URL"],
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                        config=Config(retries={"mode": "standard", "max_attempts": attempts},
                                      max_pool_connections=pool))


def paced_calls(env: dict[str, str], names: list[str], rate: float, threads: int) -> dict:
    client = glue_client(env, attempts=1, pool=threads)  # a throttled call is counted, not retried
    pace(client, AdaptiveLimiter(rate, rate, fixed=True))

    def call(name: str) -> int:
        try:
            client.get_job_runs(JobName=name)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ThrottlingException":
                raise
            return 1
        return 0

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        throttled = sum(pool.map(call, names))
    seconds = time.perf_counter() - started
    return {"rate": rate, "calls": len(names), "throttled": throttled,
            "throttled_share": round(throttled / len(names), 4), "calls_per_s": round(len(names) / seconds, 1)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    options = SimulatorOptions(jobs=args.jobs, seed=7, latency_ms=args.latency_ms, rate_limit=args.rate_limit,
                               burst=args.burst)
    sim = SimulatorProcess(options, datetime.now(UTC))
    try:
        env = sim.env()
        lister = glue_client(env, attempts=10)
        names = [job["Name"] for page in lister.get_paginator("get_jobs").paginate() for job in page["Jobs"]]
        names = (names * (args.calls // max(1, len(names)) + 1))[:args.calls]
        results = []
        for rate in args.rates:
            time.sleep(1.5)  # the bucket refills between rates
            results.append(paced_calls(env, names, rate, args.threads))
            log(f"{rate:g}/s: {results[-1]['throttled']} of {args.calls} throttled")
    finally:
        sim.stop()
    print_table(f"Paced at a fixed rate, {args.calls} GetJobRuns calls from {args.threads} threads; "
                f"{options.label()}",
                ["rate (/s)", "throttled", "share", "calls per second"],
                [[r["rate"], r["throttled"], r["throttled_share"], r["calls_per_s"]] for r in results])
    path = results_path("burst")
    write_results(path, {"args": vars(args), "machine": machine(), "results": results})
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
