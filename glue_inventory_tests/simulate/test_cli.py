"""`run_simulate`: prints how to reach the fleet; bad input is one line on stderr and exit code 2."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest

from glue_inventory.simulate.cli import run_simulate


def test_negative_jobs_exit_2(capsys):
    assert run_simulate(jobs=-1, seed=7, port=0, latency_ms=0, rate_limit=None) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "jobs must be 0 or more" in err


def test_busy_port_exit_2(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert run_simulate(jobs=1, seed=7, port=port, latency_ms=0, rate_limit=None) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"127.0.0.1:{port}" in err


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("inherited", [signal.SIG_DFL, signal.SIG_IGN], ids=["sigint-default", "sigint-ignored"])
def test_prints_endpoint_and_env_lines_and_stops_on_ctrl_c(stop_signal, inherited):
    """Ctrl-C or SIGTERM stop it, also when it was started with SIGINT ignored (a background job of a script,
    an xdist worker), where Python installs no Ctrl-C handler of its own."""
    # A process of its own, as the console command runs; the session simulator owns this one's account.
    # SIGUSR1 makes it print every thread's stack: what it was doing if it does not stop.
    code = ("import faulthandler, signal; faulthandler.register(signal.SIGUSR1); "
            "from glue_inventory.simulate.cli import run_simulate; raise SystemExit(run_simulate(5, 7, 0, 0, None))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, inherited))  # noqa: PLW1509
    try:
        lines = []
        while not lines or "Ctrl-C" not in lines[-1]:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        proc.send_signal(stop_signal)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGUSR1)
            time.sleep(2)
            proc.kill()
            pytest.fail(f"still running 60 s after the signal; its threads:\n{proc.communicate()[1]}")
        assert code == 0, proc.stderr.read()
    finally:
        proc.kill()
    output = "".join(lines)
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:" in output
    for line in ("AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1"):
        assert f"export {line}" in output
