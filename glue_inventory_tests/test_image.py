"""The container image: the Dockerfile built with podman on a base made of Debian packages (Docker Hub is not
reachable here), then run: `glue-inventory --help`, the definitions, pylint and bandit, the non-root user, and
the code server it starts answering its HEALTHCHECK, and that code server under `serve`'s webserver and daemon
landing an inventory of a simulated fleet.

podman runs with runc and cgroupfs and a containers.conf without default ulimits (crun fails on this
machine's cgroup mode and on setrlimit). The build uses the host's network and its CA bundle: the package
registries are reached through a proxy whose certificate only that bundle holds. Without podman and
mmdebstrap the test skips with one line; in CI (.ci/run installs them) it fails instead.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.db import dispose_engines, engine_for
from glue_inventory.storage.tables import data_jobs

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs", "--events-backend=file"]
BUILD_TIMEOUT_S = 1200


def _unusable() -> str | None:
    """Why podman cannot build and run containers here, or None."""
    missing = [tool for tool in ("podman", "runc", "mmdebstrap") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not installed (apt-get install podman runc mmdebstrap)"
    if not Path(CA_BUNDLE).is_file():
        return f"no CA bundle at {CA_BUNDLE} (apt-get install ca-certificates)"
    return None


@pytest.fixture(scope="module")
def podman_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """podman's configuration for this module: no default ulimits, and a store of its own (other test runs on
    the machine build too), emptied afterwards with everything in it."""
    reason = _unusable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"podman cannot build images here: {reason}", pytrace=False)
        pytest.skip(f"podman cannot build images here: {reason}")
    folder = tmp_path_factory.mktemp("podman")
    (folder / "containers.conf").write_text("[containers]\ndefault_ulimits = []\n")
    (folder / "storage.conf").write_text(f'[storage]\ndriver = "overlay"\ngraphroot = "{folder / "storage"}"\n'
                                         f'runroot = "{folder / "run"}"\n')
    env = os.environ | {"CONTAINERS_CONF": str(folder / "containers.conf"),
                        "CONTAINERS_STORAGE_CONF": str(folder / "storage.conf")}
    yield env
    _podman(env, "system", "reset", "--force")


def _podman(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*PODMAN, *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def image(podman_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The base from Debian packages, imported, and the image built on it."""
    tag = secrets.token_hex(4)
    base, built = f"localhost/glue-inventory-base:{tag}", f"localhost/glue-inventory:{tag}"
    tarball = tmp_path_factory.mktemp("base") / "base.tar"
    started = time.monotonic()
    debootstrap = subprocess.run(["mmdebstrap", "--quiet", "--variant=apt",
                                  "--include=python3.11,python3.11-venv,ca-certificates", "bookworm", str(tarball)],
                                 capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    assert debootstrap.returncode == 0, debootstrap.stderr[-3000:]
    imported = _podman(podman_env, "import", str(tarball), base)
    assert imported.returncode == 0, imported.stderr[-3000:]
    base_s = time.monotonic() - started
    started = time.monotonic()
    build = _podman(podman_env, "build", "--format", "docker", "--network", "host",
                    "-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro", "--build-arg", f"BASE_IMAGE={base}",
                    "-t", built, "-f", str(REPO / "Dockerfile"), str(REPO), timeout=BUILD_TIMEOUT_S)
    build_s = time.monotonic() - started
    assert build.returncode == 0, (build.stdout + build.stderr)[-4000:]
    size = int(_podman(podman_env, "image", "inspect", "--format", "{{.Size}}", built).stdout.strip())
    # The figures for the closing note: `pytest -s` shows them.
    print(f"\nimage: base {base_s:.0f} s (mmdebstrap + import), build {build_s:.0f} s, {size / 1e6:.0f} MB")  # noqa: T201
    return {"tag": built, "env": podman_env}


def _run(image: dict, *command: str) -> subprocess.CompletedProcess:
    return _podman(image["env"], "run", "--rm", "--no-healthcheck", "--network", "host", "--entrypoint", command[0],
                   image["tag"], *command[1:])


def test_cli_definitions_and_tools_run_in_the_image_as_a_non_root_user(image):
    help_text = _run(image, "glue-inventory", "--help")
    assert help_text.returncode == 0 and "serve" in help_text.stdout, help_text.stderr
    loaded = _run(image, "python", "-c", "from glue_inventory.definitions import defs; "
                  "print(sorted(j.name for j in defs.jobs), len(defs.assets), len(defs.sensors))")
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert "retention_job" in loaded.stdout and "inventory_job_list" in loaded.stdout
    for tool in ("pylint", "bandit"):
        version = _run(image, tool, "--version")
        assert version.returncode == 0, (tool, version.stderr)
    assert _run(image, "id", "-u").stdout.strip() == "10001"
    assert _run(image, "python", "-c", "import moto").returncode != 0, "the image holds no simulator"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_entrypoint_is_a_code_server_that_passes_its_healthcheck(image):
    port = _free_port()
    name = f"glue-inventory-{secrets.token_hex(4)}"
    inspect = _podman(image["env"], "image", "inspect", "--format", "{{json .Config.Healthcheck.Test}}", image["tag"])
    assert "grpc-health-check" in inspect.stdout, inspect.stdout
    # No systemd here to run podman's health timer: the test runs the HEALTHCHECK's command itself.
    started = _podman(image["env"], "run", "-d", "--no-healthcheck", "--name", name, "--network", "host", image["tag"],
                      "--port", str(port), "--location-name", "glue_inventory")
    assert started.returncode == 0, started.stderr
    try:
        deadline = time.monotonic() + 240
        while True:
            check = _podman(image["env"], "exec", name, "dagster", "api", "grpc-health-check", "-p", str(port))
            if check.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(3)
        logs = _podman(image["env"], "logs", name)
        assert check.returncode == 0, (check.stdout, logs.stdout[-3000:], logs.stderr[-3000:])
    finally:
        _podman(image["env"], "rm", "--force", "--time", "5", name)


def test_the_image_is_the_code_server_of_serve_and_lands_an_inventory(image, postgres_url, dagster_database,
                                                                      tmp_path):
    """The container is the code server (it runs the runs); `glue-inventory serve --external-code-server` runs the
    webserver and the daemon beside it. The container shares the host's network (the simulator, Postgres) and
    process namespace (run monitoring checks the run workers' process ids)."""
    fleet = build_fleet(8, 2, datetime.now(UTC), account_id="120987654321")
    live = sum(1 for job in fleet.jobs if job.region == "us-east-1")
    reports = tmp_path / "reports"
    reports.mkdir(mode=0o777)
    reports.chmod(0o777)  # the image's user (10001) writes here
    config = tmp_path / "config.yaml"
    config.write_text("deep_analysis:\n  top_k: 0\n")
    code_port, ui_port = _free_port(), _free_port()
    name, log = f"glue-inventory-{secrets.token_hex(4)}", tmp_path / "serve.log"
    with start_simulator(fleet) as sim, log.open("wb") as output:
        shared = sim.env() | {"GLUE_INVENTORY_DATABASE_URL": postgres_url, "DAGSTER_PG_URL": dagster_database,
                              "GLUE_INVENTORY_SYNC_INTERVAL_S": "5", "GLUE_INVENTORY_AUTOMATION_INTERVAL_S": "5"}
        container_env = shared | {"DAGSTER_PG_URL": dagster_database.replace("postgresql://", "postgresql+psycopg2://"),
                                  "GLUE_INVENTORY_CONFIG": "/etc/glue-inventory/config.yaml",
                                  "GLUE_INVENTORY_REPORTS_DIR": "/reports"}
        started = _podman(image["env"], "run", "-d", "--no-healthcheck", "--name", name, "--network", "host",
                          "--pid", "host", "-v", f"{reports}:/reports",
                          "-v", f"{config}:/etc/glue-inventory/config.yaml:ro",
                          *(arg for key, value in container_env.items() for arg in ("-e", f"{key}={value}")),
                          image["tag"], "--port", str(code_port), "--location-name", "glue_inventory")
        assert started.returncode == 0, started.stderr
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("AWS_", "GLUE_INVENTORY_", "OPENAI_", "DAGSTER_"))}
        env |= shared | {"DAGSTER_HOME": str(tmp_path / "dagster_home"), "GLUE_INVENTORY_UI_PORT": str(ui_port),
                         "GLUE_INVENTORY_CODE_SERVER_PORT": str(code_port), "GLUE_INVENTORY_CONFIG": str(config),
                         "GLUE_INVENTORY_REPORTS_DIR": str(reports)}
        cli = str(Path(sys.executable).parent / "glue-inventory")
        serve = subprocess.Popen([cli, "serve", "--external-code-server"], cwd=tmp_path, env=env, stdout=output,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        analysed = 0
        try:
            engine = None
            deadline = time.monotonic() + 420
            # One inventory: every job analysed, then the candidates step writes inventory.json.
            while time.monotonic() < deadline and not (analysed == live and (reports / "inventory.json").is_file()):
                assert serve.poll() is None, log.read_text(errors="replace")[-4000:]
                if "serving http://" in log.read_text(errors="replace"):
                    engine = engine or engine_for(postgres_url)
                    with engine.connect() as conn:
                        analysed = conn.execute(sa.select(sa.func.count()).select_from(data_jobs)
                                                .where(data_jobs.c.status.is_not(None))).scalar_one()
                time.sleep(3)
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=60)
            container_log = _podman(image["env"], "logs", name)
            _podman(image["env"], "rm", "--force", "--time", "5", name)
            dispose_engines()
    assert analysed == live, (log.read_text(errors="replace")[-3000:], container_log.stdout[-3000:],
                              container_log.stderr[-3000:])
    assert "code-server: started" not in log.read_text(), "serve left the code server to the container"
    assert (reports / "inventory.json").is_file(), "the run in the container wrote the reports"
