"""Connecting, error messages and Alembic migrations, on SQLite and Postgres."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.dialects.postgresql import JSONB

from glue_inventory.storage import db
from glue_inventory.storage.tables import metadata

# docs/tables.md (the contract) plus the columns the pipeline relies on.
CONTRACT = {
    "platforms": {"id", "name", "platform_type", "account_id", "region", "credentials", "created_at",
                  "updated_at", "status", "last_error", "last_synced_at"},
    "data_jobs": {"id", "platform_id", "name", "status", "priority", "job_type", "worker_type",
                  "number_of_workers", "max_capacity", "glue_version", "execution_class", "script_location",
                  "tags", "last_run_at", "last_run_state", "first_seen_at", "last_seen_at", "deleted_at",
                  "created_at", "updated_at", "partition_key", "created_on", "default_argument_names",
                  "metrics", "candidate_reasons", "last_error"},
    "job_runs": {"id", "data_job_id", "run_id", "state", "started_on", "completed_on", "execution_time_s",
                 "dpu_hours", "estimated_cost_usd", "attempt", "error_message", "worker_type",
                 "number_of_workers", "max_capacity", "glue_version", "execution_class", "dpu_seconds",
                 "fetched_at"},
    "analysis_runs": {"id", "data_job_id", "analysis_type", "dagster_run_id", "completed_at", "metrics",
                      "recommendations", "ai_analysis", "code_analysis", "cost_analysis", "created_at",
                      "status", "error"},
    "deep_analysis_candidates": {"id", "data_job_id", "dagster_run_id", "score", "priority", "reasons",
                                 "estimated_monthly_savings_usd", "created_at", "savings_by_reason",
                                 "is_current"},
    "code_analysis_cache": {"cache_key", "result", "created_at"},
    "llm_cache": {"cache_key", "result", "created_at"},
}
UNIQUE = {
    "data_jobs": [["platform_id", "name"], ["partition_key"]],
    "job_runs": [["data_job_id", "run_id"]],
    "platforms": [["name", "account_id", "region"]],
}
REFUSED_URL = "postgresql://glue:s3cr3t-pw@127.0.0.1:1/inventory"


def test_upgrade_creates_every_contract_column(database_url: str) -> None:
    db.upgrade(database_url)
    inspector = sa.inspect(engine := db.make_engine(database_url))
    for table, columns in CONTRACT.items():
        assert columns <= {c["name"] for c in inspector.get_columns(table)}, table
    for table, keys in UNIQUE.items():
        found = [u["column_names"] for u in inspector.get_unique_constraints(table)]
        assert all(key in found for key in keys), (table, found)
    indexed = [ix["column_names"] for ix in inspector.get_indexes("job_runs")]
    assert ["data_job_id", "started_on"] in indexed
    engine.dispose()


def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    tables = set(sa.inspect(engine).get_table_names())
    db.upgrade(database_url)
    assert set(sa.inspect(engine).get_table_names()) == tables
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


def test_migrations_match_the_table_definitions(database_url: str) -> None:
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata) == []
    engine.dispose()


def test_concurrent_upgrades_of_a_fresh_database_all_succeed(database_url: str) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: db.upgrade(database_url), range(4)))
    engine = db.make_engine(database_url)
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


def test_engine_for_is_cached_and_migrated(database_url: str) -> None:
    engine = db.engine_for(database_url)
    assert db.engine_for(database_url) is engine
    assert "data_jobs" in sa.inspect(engine).get_table_names()


def test_json_is_jsonb_on_postgres(postgres_url: str) -> None:
    db.upgrade(postgres_url)
    engine = db.make_engine(postgres_url)
    columns = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns("data_jobs")}
    assert all(isinstance(columns[name], JSONB) for name in ("tags", "metrics", "candidate_reasons"))
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url: str) -> None:
    engine = db.make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_default_url_is_sqlite_under_glue_inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(db.ENV_VAR, raising=False)
    assert db.database_url() == "sqlite:///.glue_inventory/inventory.db"
    assert (tmp_path / ".glue_inventory").is_dir()


@pytest.mark.parametrize(("given", "expected"), [
    ("postgres://u@h:5432/d", "postgresql+psycopg://u@h:5432/d"),
    ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgresql+psycopg2://u@h/d", "postgresql+psycopg2://u@h/d"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_plain_postgres_urls_use_psycopg3(given: str, expected: str) -> None:
    assert db.normalise_url(given) == expected


def test_env_var_chooses_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(db.ENV_VAR, "postgres://u@h/d")
    assert db.database_url() == "postgresql+psycopg://u@h/d"


def test_unwritable_sqlite_directory_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".glue_inventory").write_text("a file where the directory should be")
    monkeypatch.delenv(db.ENV_VAR, raising=False)
    with pytest.raises(db.DatabaseError, match=r"cannot create \.glue_inventory/: .* — set "
                                               r"GLUE_INVENTORY_DATABASE_URL to a writable path"):
        db.database_url()


@pytest.mark.parametrize("call", [db.upgrade, db.engine_for, lambda url: db.check_connection(db.make_engine(url))])
def test_unreachable_postgres_names_host_and_port_and_hides_the_password(call) -> None:
    with pytest.raises(db.DatabaseError) as caught:
        call(REFUSED_URL)
    message = str(caught.value)
    assert message == ("GLUE_INVENTORY_DATABASE_URL: cannot connect to 127.0.0.1:1 (connection refused) — "
                       "is Postgres running?")
    assert "s3cr3t" not in message


def test_missing_postgres_database_is_named(postgres_server: sa.Engine) -> None:
    url = postgres_server.url.set(database="gi_test_no_such_database")
    with pytest.raises(db.DatabaseError, match="database 'gi_test_no_such_database' does not exist"):
        db.check_connection(db.make_engine(url.render_as_string(hide_password=False)))


@pytest.mark.parametrize("url", [REFUSED_URL, "postgresql://glue:s3cr3t-pw@", "nonsense://glue:s3cr3t-pw@host"])
def test_mask_url_hides_the_password(url: str) -> None:
    assert "s3cr3t" not in db.mask_url(url)
    assert "***" in db.mask_url(url)


def test_a_malformed_url_is_explained_without_its_password() -> None:
    with pytest.raises(db.DatabaseError, match="is not a database URL") as caught:
        db.make_engine("glue:s3cr3t-pw@host/db")
    assert "s3cr3t" not in str(caught.value)


def test_an_unopenable_sqlite_file_is_explained(tmp_path: Path) -> None:
    (tmp_path / "inventory.db").mkdir()
    with pytest.raises(db.DatabaseError, match=r"cannot open .*inventory\.db \(unable to open database file\) — "
                                               r"check its directory is writable"):
        db.upgrade(f"sqlite:///{tmp_path / 'inventory.db'}")
