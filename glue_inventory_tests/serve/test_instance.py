"""`glue-inventory serve`'s settings and instance: Postgres only, refused in one line otherwise; the
instance it writes is the repo's template plus the queued coordinator and the monitored launcher."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from glue_inventory.serve.instance import ServeError, dagster_home, prepare_home, serve_settings

CLI = str(Path(sys.executable).parent / "glue-inventory")


def test_serve_refuses_sqlite_in_one_line(tmp_path):
    result = subprocess.run([CLI, "serve"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env={"PATH": "/usr/bin:/bin", "GLUE_INVENTORY_DATABASE_URL": f"sqlite:///{tmp_path}/i.db"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"glue-inventory serve: GLUE_INVENTORY_DATABASE_URL: sqlite:///{tmp_path}/i.db is not a Postgres database — "
        "serve runs several processes on one store, which needs Postgres (postgresql://user@host:5432/dbname); "
        "SQLite is for `make demo`"]


@pytest.mark.parametrize(("environ", "message"), [
    ({"DAGSTER_PG_URL": "sqlite:///dagster.db"}, "DAGSTER_PG_URL: sqlite:///dagster.db is not a Postgres database"),
    ({"DAGSTER_PG_URL": "not a url"}, "DAGSTER_PG_URL: 'not a url' is not a database URL"),
    ({"GLUE_INVENTORY_UI_PORT": "http"}, "GLUE_INVENTORY_UI_PORT='http': expected a TCP port number"),
    ({"GLUE_INVENTORY_CODE_SERVER_PORT": "70000"}, "GLUE_INVENTORY_CODE_SERVER_PORT='70000': expected a TCP port"),
])
def test_bad_settings_name_the_variable(environ, message):
    with pytest.raises(ServeError, match="^" + message.replace("(", r"\(").replace("?", r"\?")):
        serve_settings(environ)


def test_defaults_are_local_postgres_with_psycopg2_for_dagster():
    settings = serve_settings({"DAGSTER_PG_URL": "postgresql://dagster:pw@db:5432/dagster"})
    assert settings.dagster_pg_url == "postgresql+psycopg2://dagster:pw@db:5432/dagster"
    assert settings.inventory_url == "postgresql+psycopg://postgres@127.0.0.1:5432/glue_inventory"
    assert (settings.ui_port, settings.code_server_port) == (3000, 4000)


def test_dagster_home_follows_dagster_dev(tmp_path):
    home, temporary = dagster_home(tmp_path, {"DAGSTER_HOME": str(tmp_path / "home")})
    assert (home, temporary) == (tmp_path / "home", False) and home.is_dir()
    home, temporary = dagster_home(tmp_path, {})
    assert temporary and home.parent == tmp_path and home.name.startswith(".tmp_dagster_home_")


def test_the_written_instance_queues_and_monitors_runs(tmp_path, postgres_url, monkeypatch):
    monkeypatch.setenv("DAGSTER_PG_URL", postgres_url.replace("postgresql+psycopg://", "postgresql+psycopg2://"))
    workspace = prepare_home(tmp_path, 4123)
    assert yaml.safe_load(workspace.read_text()) == {"load_from": [{"grpc_server": {
        "host": "127.0.0.1", "port": 4123, "location_name": "glue_inventory"}}]}
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert type(instance.run_launcher).__name__ == "LocalRunLauncher"
        assert instance.run_launcher.supports_check_run_worker_health
        assert instance.run_monitoring_enabled and instance.run_monitoring_max_resume_run_attempts == 0
        assert type(instance.run_storage).__name__ == "PooledRunStorage"


def test_an_instance_of_ones_own_must_be_on_postgres(tmp_path):
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with pytest.raises(ServeError, match="does not keep Dagster's storage in Postgres"):
        prepare_home(tmp_path, 4000)


@pytest.mark.parametrize(("storage", "accepted"), [
    ({"postgres": {"postgres_url": {"env": "DAGSTER_PG_URL"}}}, True),
    ({"custom": {"module": "glue_inventory.orchestration.dagster_storage", "class": "PooledPostgresStorage",
                 "config": {"postgres_url": {"env": "DAGSTER_PG_URL"}}}}, True),
    ({"custom": {"module": "somewhere.else", "class": "PooledPostgresStorage", "config": {}}}, False),
    ({"sqlite": {"base_dir": "/tmp/x"}}, False),
])
def test_an_instance_of_ones_own_may_keep_either_postgres_storage(tmp_path, storage, accepted):
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump({"storage": storage}))
    if accepted:
        assert prepare_home(tmp_path, 4000).exists()
        assert yaml.safe_load((tmp_path / "dagster.yaml").read_text()) == {"storage": storage}  # left as it was
    else:
        with pytest.raises(ServeError, match="does not keep Dagster's storage in Postgres"):
            prepare_home(tmp_path, 4000)
