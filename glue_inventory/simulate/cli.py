"""`glue-inventory simulate`: serve a simulated fleet until Ctrl-C."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime

from glue_inventory.simulate.fleet import build_fleet
from glue_inventory.simulate.server import SimulatorError, start_simulator


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
