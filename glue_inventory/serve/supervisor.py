"""Keeps a set of processes running as a Kubernetes Deployment keeps its pods: one that exits is started
again after a back-off that doubles with each quick failure, and every exit and restart is logged."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# Kubernetes' CrashLoopBackOff doubles from 10 s to 5 min; a process on one machine restarts faster.
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
# A process that ran this long before exiting was healthy: its next restart starts from the first back-off.
HEALTHY_AFTER_S = 60.0
STOP_GRACE_S = 20.0


@dataclass
class Component:
    """One supervised process: a name for the log and the command that starts it."""

    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff_s: float = FIRST_BACKOFF_S
    restart_at: float | None = None


class Supervisor:
    """Starts components in sessions of their own (so a component and its children stop together), restarts
    the ones that exit, and stops them all on `stop`."""

    def __init__(self, env: dict[str, str], cwd: Path, output: IO[bytes] | None = None,
                 log: Callable[[str], None] = print) -> None:
        self._env, self._cwd, self._output, self._log = env, cwd, output, log
        self.components: dict[str, Component] = {}

    def start(self, component: Component) -> None:
        self.components[component.name] = component
        component.process = subprocess.Popen(component.argv, env=self._env, cwd=self._cwd, stdout=self._output,
                                             stderr=subprocess.STDOUT if self._output else None,
                                             start_new_session=True)
        component.started_at, component.restart_at = time.monotonic(), None
        self._log(f"{component.name}: started (pid {component.process.pid})")

    def check(self) -> None:
        """Notice exited components and restart those whose back-off has passed."""
        now = time.monotonic()
        for component in self.components.values():
            code = component.process.poll() if component.process else None
            if component.restart_at is None and code is not None:
                if now - component.started_at >= HEALTHY_AFTER_S:
                    component.backoff_s = FIRST_BACKOFF_S
                component.restart_at = now + component.backoff_s
                self._log(f"{component.name}: exited with code {code}; restarting in {component.backoff_s:.0f} s")
                component.backoff_s = min(component.backoff_s * 2, MAX_BACKOFF_S)
            elif component.restart_at is not None and now >= component.restart_at:
                component.restarts += 1
                self._log(f"{component.name}: restart {component.restarts}")
                self.start(component)

    def stop(self) -> None:
        """SIGTERM to every component's session, then SIGKILL to what is left after the grace period."""
        running = [c.process for c in self.components.values() if c.process and c.process.poll() is None]
        for process in running:
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._log(f"pid {process.pid} did not stop in {STOP_GRACE_S:.0f} s; killing it")
        for component in self.components.values():
            if component.process:
                _signal_group(component.process.pid, signal.SIGKILL)  # children that outlived their leader
                component.process.wait()


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
