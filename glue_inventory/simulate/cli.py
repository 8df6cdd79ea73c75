"""`glue-inventory simulate`: serve a simulated fleet until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import threading
from datetime import UTC, datetime

from glue_inventory.simulate.fleet import build_fleet
from glue_inventory.simulate.server import SimulatorError, start_simulator


def add_simulate_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("simulate", help="serve a simulated AWS Glue estate (moto) on 127.0.0.1")
    parser.add_argument("--jobs", type=int, default=200, help="number of Glue jobs (default 200)")
    parser.add_argument("--seed", type=int, default=7, help="random seed; the same seed gives the same fleet")
    parser.add_argument("--port", type=int, default=5000, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--latency-ms", type=int, default=0, help="added latency per API call")
    parser.add_argument("--rate-limit", type=float, default=None,
                        help="requests per second before answering ThrottlingException")
    parser.set_defaults(func=lambda args: run_simulate(args.jobs, args.seed, args.port, args.latency_ms,
                                                       args.rate_limit))
    return parser


def run_simulate(jobs: int, seed: int, port: int, latency_ms: int, rate_limit: float | None,
                 stop: threading.Event | None = None) -> int:
    """Start the simulator, print how to reach it, block until Ctrl-C (or `stop` is set); 2 on bad input."""
    try:
        fleet = build_fleet(jobs, seed, datetime.now(UTC))
        sim = start_simulator(fleet, port=port, latency_ms=latency_ms, rate_limit_per_s=rate_limit)
    except (ValueError, SimulatorError) as exc:
        print(f"glue-inventory simulate: {exc}", file=sys.stderr)
        return 2
    with sim:
        # Ctrl-C may come as soon as the last line is out: everything after the server started is covered.
        try:
            runs = sum(len(job.runs) for job in fleet.jobs)
            print(f"Simulated AWS Glue estate: {len(fleet.jobs)} jobs, {runs} runs, seed {seed}, "
                  f"at {sim.endpoint_url}")
            print("Point boto3 (and glue-inventory) at it with:")
            for name, value in sim.env().items():
                print(f"export {name}={value}")
            print("Ctrl-C to stop.", flush=True)
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    return 0
