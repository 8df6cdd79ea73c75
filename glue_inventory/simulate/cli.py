"""`glue-inventory simulate`: serve a simulated fleet until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from glue_inventory.simulate.fleet import Fleet, build_fleet
from glue_inventory.simulate.organization import build_organization
from glue_inventory.simulate.server import SimulatorError, start_simulator


def run_simulate(jobs: int, seed: int, port: int, latency_ms: int, rate_limit: float | None,
                 stop: threading.Event | None = None, organization: bool = True) -> int:
    """Start the simulator (an Organization of member accounts, or one account), print how to reach it,
    block until Ctrl-C (or `stop` is set); 2 on bad input."""
    try:
        now = datetime.now(UTC)
        fleet = build_organization(jobs, seed, now) if organization else build_fleet(jobs, seed, now)
        sim = start_simulator(fleet, port=port, latency_ms=latency_ms, rate_limit_per_s=rate_limit)
    except (ValueError, SimulatorError) as exc:
        print(f"glue-inventory simulate: {exc}", file=sys.stderr)
        return 2
    with sim, _stopped_by_signals():
        # Ctrl-C may come as soon as the last line is out: everything after the server started is covered.
        try:
            runs = sum(len(job.runs) for job in fleet.jobs)
            print(f"Simulated AWS Glue estate: {len(fleet.jobs)} jobs, {runs} runs, seed {seed}, "
                  f"at {sim.endpoint_url}")
            print_organization(fleet)
            print("Point boto3 (and glue-inventory) at it with:")
            for name, value in sim.env().items():
                print(f"export {name}={value}")
            print("Ctrl-C to stop.", flush=True)
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    return 0


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Ctrl-C and SIGTERM (docker stop, kill) stop the simulator, even when it was started with SIGINT
    ignored (a background job of a script, a CI runner's worker): Python then installs no Ctrl-C handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, _interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def print_organization(fleet: Fleet) -> None:
    """The member accounts, what is odd about each, and a config that inventories the Organization."""
    org = fleet.organization
    if org is None:
        return
    print(f"Organization of management account {org.management_account_id}:")
    for account in org.accounts:
        jobs = sum(1 for job in fleet.jobs if job.account_id == account.account_id)
        odd = ", role cannot be assumed" if account.role_denied else ""
        print(f"  {account.account_id} {account.name} in Root/{account.ou} ({org.ou_id(account.ou)}): "
              f"{account.status}, {jobs} jobs{odd}")
    print("A GLUE_INVENTORY_CONFIG that inventories it (excluding one account, only the Workloads OU):")
    for line in org.config_yaml(fleet.regions).splitlines():
        print(f"  {line}")
