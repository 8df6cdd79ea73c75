"""The settings, Dagster instance and workspace of `glue-inventory serve`."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from glue_inventory import DAGSTER_SPEED_ENV
from glue_inventory.config import ENVIRONMENT_VARIABLES, ConfigError, read_environment

# The repository's dagster.yaml links here: the template users copy is the one serve runs on.
TEMPLATE = Path(__file__).with_name("dagster.yaml")
LOCATION = "glue_inventory"
DEFAULT_SERVER = "postgres@127.0.0.1:5432"
DEFAULT_DAGSTER_PG_URL = f"postgresql+psycopg2://{DEFAULT_SERVER}/glue_inventory_dagster"
# serve's default inventory database: Postgres, where everything else defaults to SQLite.
DEFAULT_INVENTORY_URL = f"postgresql+psycopg://{DEFAULT_SERVER}/glue_inventory"
# How often the daemon checks that a started run's worker is alive (Dagster's default: 120 s).
MONITORING_POLL_S = 10


class ServeError(RuntimeError):
    """`glue-inventory serve` cannot start; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class ServeSettings:
    dagster_pg_url: str
    inventory_url: str
    ui_port: int
    code_server_port: int


def _postgres(variable: str, value: str, driver: str) -> str:
    """`value` as a URL with `driver`; SQLite and anything not Postgres are refused."""
    try:
        url = make_url(value)
    except ArgumentError:
        raise ServeError(f"{variable}: {value!r} is not a database URL — expected "
                         f"postgresql://user@host:5432/dbname") from None
    if url.get_backend_name() != "postgresql" or not url.database:
        raise ServeError(f"{variable}: {url.render_as_string(hide_password=True)} is not a Postgres database — "
                         "serve runs several processes on one store, which needs Postgres "
                         "(postgresql://user@host:5432/dbname); SQLite is for `make demo`")
    return url.set(drivername=driver).render_as_string(hide_password=False)


def serve_settings(environ: Mapping[str, str]) -> ServeSettings:
    """The settings from the environment (the GLUE_INVENTORY_* variables through config.read_environment)."""
    try:
        env = read_environment(environ)
    except ConfigError as exc:
        raise ServeError(str(exc)) from None
    return ServeSettings(
        # dagster-postgres breaks on psycopg 3: Dagster's storage is reached through psycopg2.
        dagster_pg_url=_postgres("DAGSTER_PG_URL", environ.get("DAGSTER_PG_URL") or DEFAULT_DAGSTER_PG_URL,
                                 "postgresql+psycopg2"),
        inventory_url=_postgres(ENVIRONMENT_VARIABLES["database_url"], env.database_url or DEFAULT_INVENTORY_URL,
                                "postgresql+psycopg"),
        ui_port=env.ui_port, code_server_port=env.code_server_port)


def create_dagster_storage(url: str) -> None:
    """Create Dagster's tables in `url` before the processes start. Each process creates them on first use,
    and two doing it at once on an empty database collide (`type "runs" already exists`)."""
    from dagster_postgres import DagsterPostgresStorage  # its engines hold no pool: nothing to close

    DagsterPostgresStorage(url)


def instance_config() -> dict:
    """The template with what the topology on one machine adds: the queued run coordinator, a run
    launcher whose workers run monitoring can check (orchestration/run_launcher.py), a short poll."""
    config = yaml.safe_load(TEMPLATE.read_text())
    config["run_coordinator"] = {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator"}
    config["run_launcher"] = {"module": "glue_inventory.orchestration.run_launcher", "class": "LocalRunLauncher"}
    # A dead worker's run is failed, not resumed: the next refresh redoes its jobs.
    config["run_monitoring"] |= {"poll_interval_seconds": MONITORING_POLL_S, "max_resume_run_attempts": 0}
    return config


def dagster_home(cwd: Path, environ: dict[str, str]) -> tuple[Path, bool]:
    """(DAGSTER_HOME, whether it is temporary), as `dagster dev` chooses it: $DAGSTER_HOME when set (created if
    missing), else a new `.tmp_dagster_home_*` folder in the working directory, removed on exit."""
    if environ.get("DAGSTER_HOME"):
        home = Path(environ["DAGSTER_HOME"]).expanduser().resolve()
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ServeError(f"DAGSTER_HOME: cannot create {home} ({exc.strerror or exc}) — "
                             "set DAGSTER_HOME to a writable folder") from None
        return home, False
    return Path(tempfile.mkdtemp(prefix=".tmp_dagster_home_", dir=cwd)), True


def _on_postgres(storage: Mapping) -> bool:
    """`storage: postgres:`, or the template's own: dagster-postgres's holding its connections
    (orchestration/dagster_storage.py, named by the template; serve imports no Dagster code)."""
    custom, pooled = storage.get("custom") or {}, yaml.safe_load(TEMPLATE.read_text())["storage"]["custom"]
    return "postgres" in storage or (custom.get("module"), custom.get("class")) == (pooled["module"], pooled["class"])


def prepare_home(home: Path, code_server_port: int) -> Path:
    """Write the instance (unless $DAGSTER_HOME has its own, which must keep Dagster's storage in Postgres)
    and the workspace that points at the code server; return the workspace file."""
    instance = home / "dagster.yaml"
    if instance.exists():
        existing = yaml.safe_load(instance.read_text()) or {}
        if not _on_postgres(existing.get("storage") or {}):
            raise ServeError(f"{instance} does not keep Dagster's storage in Postgres — serve's processes "
                             "share it: remove the file (serve writes one from DAGSTER_PG_URL) or give it "
                             "`storage: postgres:`")
    else:
        instance.write_text(yaml.safe_dump(instance_config(), sort_keys=False))
    workspace = home / "workspace.yaml"
    workspace.write_text(yaml.safe_dump({"load_from": [{"grpc_server": {
        "host": "127.0.0.1", "port": code_server_port, "location_name": LOCATION}}]}))
    return workspace


def process_environment(settings: ServeSettings, home: Path, environ: dict[str, str]) -> dict[str, str]:
    """What every process of the topology runs with: the caller's environment, the two settings that make
    Dagster's per-partition bookkeeping cheap (the webserver and the daemon do not import our code, which
    sets them), the instance and both stores."""
    return DAGSTER_SPEED_ENV | environ | {
        "DAGSTER_HOME": str(home), "DAGSTER_PG_URL": settings.dagster_pg_url,
        "GLUE_INVENTORY_DATABASE_URL": settings.inventory_url, "PYTHONUNBUFFERED": "1",
    }
