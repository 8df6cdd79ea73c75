"""The supervisor restarts a process that exits, with a back-off that doubles, and stops what it started."""

import sys
import time
from pathlib import Path

from glue_inventory.serve.supervisor import FIRST_BACKOFF_S, Component, Supervisor


def _supervise(supervisor: Supervisor, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        supervisor.check()
        time.sleep(0.05)


def test_an_exiting_process_is_restarted_with_back_off_and_logged(tmp_path):
    lines: list[str] = []
    supervisor = Supervisor({}, tmp_path, log=lines.append)
    crashing = Component("crasher", [sys.executable, "-c", "raise SystemExit(3)"])
    supervisor.start(crashing)
    # Exits at once each time: restarts after 1 s, then 2 s (the second restart at ~3 s).
    _supervise(supervisor, 3 * FIRST_BACKOFF_S + 1.5)
    supervisor.stop()
    exits = [line for line in lines if "exited" in line]
    assert exits[:2] == ["crasher: exited with code 3; restarting in 1 s",
                         "crasher: exited with code 3; restarting in 2 s"]
    assert crashing.restarts == 2 and "crasher: restart 2" in lines


def test_stop_ends_every_process_and_its_children(tmp_path):
    supervisor = Supervisor({}, tmp_path, log=lambda _: None)
    pid_file = tmp_path / "child.pid"
    script = (f"import subprocess, time, pathlib; child = subprocess.Popen(['sleep', '60']); "
              f"pathlib.Path({str(pid_file)!r}).write_text(str(child.pid)); time.sleep(60)")
    sleeper = Component("sleeper", [sys.executable, "-c", script])
    supervisor.start(sleeper)
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    child = int(pid_file.read_text())
    supervisor.stop()
    assert sleeper.process.poll() is not None
    # A signalled process takes a moment to die (state R while it exits): it must be gone, or a zombie, within 10 s.
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")
