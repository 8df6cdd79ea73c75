"""Dagster's default run launcher with a run-worker health check, for a topology on one machine.

Dagster's `DefaultRunLauncher` has no health check, so run monitoring never notices a run whose worker
died (a killed code server takes its runs with it): the run stays STARTED for ever and its `aws_api`
slots stay taken. Every process of `glue-inventory serve` shares one machine, so the daemon can see
the worker's process id, which the worker records in the run's "Started process for run" event.
Not for topologies where the daemon and the code server are in different containers or hosts.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus

# A process started this long after the run's start event is another process that got the same pid.
_PID_REUSE_SLACK_S = 5.0


def _process_start_time(pid: int) -> float | None:
    """When process `pid` started (epoch seconds) from /proc; None where /proc is not there."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(line for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime"))
    except (OSError, StopIteration):
        return None
    # The second field (the command) may hold spaces and parentheses: the fields after it follow the last ')'.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":
        return float("inf")  # a zombie: exited, not yet reaped
    return int(boot.split()[1]) + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def _worker_pid(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """(pid, time) of the run worker's "Started process for run" event, the newest if it was resumed."""
    for event in reversed(instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)):
        data = event.dagster_event.engine_event_data if event.dagster_event else None
        pid = data.metadata.get("pid") if data else None
        if pid is not None and event.message.startswith("Started process for run"):
            return int(pid.value), event.timestamp
    return None


class LocalRunLauncher(DefaultRunLauncher):
    """`DefaultRunLauncher`, plus: a STARTED run whose worker process is gone is reported FAILED."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        found = _worker_pid(self._instance, run.run_id)
        if found is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no worker process recorded yet")
        pid, started = found
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker process {pid} is gone")
        except PermissionError:
            pass  # it exists, under another user
        process_start = _process_start_time(pid)
        if process_start is not None and process_start > started + _PID_REUSE_SLACK_S:
            return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker process {pid} is gone")
        return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker process {pid} is running")
