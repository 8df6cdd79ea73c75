"""The plain package — `pip install glue-inventory`, no extras, no dev tools — in a venv of its own.

The wheel is built the way a release is (sdist, then a wheel from the sdist, away from the work tree) and
installed over the locked runtime dependencies (`uv sync --no-dev`, no extras), all from uv's cache, which
`make test`'s own sync has just filled: offline, a few seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SIMULATOR_HINT = "pip install 'glue-inventory[simulator]'"


def _uv() -> str | None:
    """The uv the Makefile uses: the one on PATH, else the one it installed into .uv/."""
    found = shutil.which("uv")
    if found:
        return found
    local = REPO / ".uv" / "bin" / "uv"
    return str(local) if os.access(local, os.X_OK) else None


def _clean_env() -> dict[str, str]:
    """The caller's environment without its venv, uv settings, Python path, or deployment settings."""
    dropped = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX")
    return {key: value for key, value in os.environ.items()
            if key not in dropped and not key.startswith(("UV_", "AWS_", "DAGSTER_", "GLUE_INVENTORY_"))}


def _uv_run(uv: str, *args: str, env: dict[str, str]) -> None:
    done = subprocess.run([uv, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"uv {' '.join(args)} failed:\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def lean(tmp_path_factory) -> dict[str, Path]:
    uv = _uv()
    if uv is None:
        pytest.skip("uv is neither on PATH nor in .uv/bin: run `make test`, which installs it")
    root = tmp_path_factory.mktemp("lean")
    venv, dist = root / "venv", root / "dist"
    env = _clean_env() | {"UV_PYTHON_DOWNLOADS": "never"}
    started = time.monotonic()
    _uv_run(uv, "build", "--offline", "--quiet", "--project", str(REPO), "--out-dir", str(dist), env=env)
    _uv_run(uv, "sync", "--offline", "--frozen", "--quiet", "--no-dev", "--no-install-project",
            "--project", str(REPO), env=env | {"UV_PROJECT_ENVIRONMENT": str(venv)})
    python = venv / "bin" / "python"
    (wheel,) = dist.glob("glue_inventory-*.whl")
    _uv_run(uv, "pip", "install", "--offline", "--quiet", "--no-deps", "--python", str(python), str(wheel), env=env)
    _uv_run(uv, "pip", "check", "--offline", "--quiet", "--python", str(python), env=env)
    print(f"lean venv built in {time.monotonic() - started:.1f}s", file=sys.stderr)
    home = root / "home"
    home.mkdir()
    return {"bin": venv / "bin", "cwd": home}


def _run(lean: dict[str, Path], command: list[str], timeout: int = 120,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """A command of the lean venv, run from an empty directory so nothing resolves to the work tree."""
    env = _clean_env() | {"DAGSTER_HOME": str(lean["cwd"]), "PATH": f"{lean['bin']}{os.pathsep}{os.environ['PATH']}",
                          **(env or {})}
    return subprocess.run(command, env=env, cwd=lean["cwd"], capture_output=True, text=True, timeout=timeout)


def test_the_simulator_extra_and_the_dev_tools_are_not_installed(lean):
    probe = ("import importlib.util as u; "
             "print(*[m for m in ('moto', 'flask', 'pytest', 'glue_inventory_tests', 'opentelemetry.sdk') "
             "if u.find_spec(m)])")
    done = _run(lean, [str(lean["bin"] / "python"), "-c", probe])
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == []


def test_the_code_location_loads(lean):
    done = _run(lean, [str(lean["bin"] / "python"), "-c", "import glue_inventory.definitions"])
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_cli_answers(lean):
    done = _run(lean, [str(lean["bin"] / "glue-inventory"), "--help"])
    assert done.returncode == 0, done.stderr[-3000:]
    assert "demo" in done.stdout


def test_the_demo_names_the_extra_it_needs(lean):
    done = _run(lean, [str(lean["bin"] / "glue-inventory"), "demo"])
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and SIMULATOR_HINT in lines[0], done.stderr[-3000:]


def test_traces_asked_for_without_the_tracing_extra_say_how_to_install_it(lean):
    probe = "from glue_inventory import telemetry; telemetry.configure()"
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
    done = _run(lean, [str(lean["bin"] / "python"), "-c", probe], env=env)
    assert done.returncode != 0
    assert "pip install 'glue-inventory[tracing]'" in done.stderr.splitlines()[-1], done.stderr[-3000:]
