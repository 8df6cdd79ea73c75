"""Connecting to the inventory database (`GLUE_INVENTORY_DATABASE_URL`) and migrating it with Alembic."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from glue_inventory.config import DEFAULT_DATABASE_URL, read_environment

ENV_VAR = "GLUE_INVENTORY_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30
# Any constant shared by every process migrating the same Postgres database.
_PG_MIGRATION_LOCK = 0x6C7565_696E76

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


class DatabaseError(RuntimeError):
    """The inventory database cannot be used; the message says what is wrong and what to do."""


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ***, safe to print."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"^((?:[^:/@]*://)?[^:/@]*:).*@", r"\1***@", url)


def normalise_url(url: str) -> str:
    """Plain Postgres URLs use psycopg 3, the driver this package installs and tests."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"{ENV_VAR}: {mask_url(url)!r} is not a database URL — expected "
            "postgresql+psycopg://user@host:5432/dbname or sqlite:///path/to/inventory.db") from None


def _sqlite_path(parsed: URL) -> Path | None:
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _ensure_sqlite_dir(parsed: URL) -> None:
    path = _sqlite_path(parsed)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = "a file is in the way" if isinstance(exc, FileExistsError) else (exc.strerror or str(exc)).lower()
        raise DatabaseError(f"{ENV_VAR}: cannot create {path.parent}/: {reason} — "
                            f"set {ENV_VAR} to a writable path") from None


def database_url(url: str | None = None) -> str:
    """`url`, else `GLUE_INVENTORY_DATABASE_URL`, else the SQLite default; creates a SQLite file's directory."""
    url = normalise_url(url or read_environment().database_url or DEFAULT_DATABASE_URL)
    _ensure_sqlite_dir(_parse(url))
    return url


def _use_wal(cursor) -> None:
    """Switch the file to WAL once. The switch needs an exclusive lock and SQLite answers "database is
    locked" at once, without its busy handler, while another connection holds any lock: retry until the
    busy timeout, as connections opened together on a fresh file all try it."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; FULL would fsync every commit
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`: SQLite in WAL mode with foreign keys, Postgres with pre-ping and a timeout."""
    parsed = _parse(normalise_url(url))
    try:
        if parsed.get_backend_name() == "sqlite":
            _ensure_sqlite_dir(parsed)
            # hide_parameters: a failed statement's error (which Dagster logs) must not repeat the values.
            engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, hide_parameters=True,
                                   json_deserializer=orjson.loads)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        connect_args = {}
        if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("psycopg", "psycopg2"):
            connect_args = {"connect_timeout": int(parsed.query.get("connect_timeout", 10)),
                            "application_name": "glue_inventory"}
        # orjson reads the JSON columns (metrics, configuration, tags: five per job the candidate list reads)
        # three times as fast as the json module; what the columns hold is JSON the database accepted.
        return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args, hide_parameters=True,
                             json_deserializer=orjson.loads)
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(f"{ENV_VAR}: no driver for {mask_url(parsed)} ({exc}) — "
                            "use postgresql+psycopg:// or sqlite:///") from None


def failure_reason(parsed: URL, message: str) -> tuple[str, str]:
    """(what went wrong, what to do) for a driver's connection error message."""
    lowered = message.lower()
    if "connection refused" in lowered:
        return "connection refused", "is Postgres running?"
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return f"authentication failed for user {parsed.username!r}", "check the user and password in the URL"
    if "does not exist" in lowered and "database" in lowered:
        return (f"database {parsed.database!r} does not exist",
                f"create it (createdb {parsed.database}) or fix the URL")
    if "translate host name" in lowered or "name or service not known" in lowered:
        return "unknown host", "check the host name in the URL"
    if "timeout" in lowered or "timed out" in lowered:
        return "timed out", "check the host, the port and any firewall in between"
    first_line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return first_line, "check the URL and the server's log"


def describe_failure(url: URL, exc: BaseException, variable: str = ENV_VAR) -> str:
    """A one-line, password-free explanation of why connecting to `url` (set by `variable`) failed."""
    message = str(getattr(exc, "orig", None) or exc)
    if url.password:
        message = message.replace(str(url.password), "***")
    path = _sqlite_path(url)
    if url.get_backend_name() == "sqlite":
        where = path if path is not None else url.database or ":memory:"
        return (f"{variable}: cannot open {where} ({message.strip()}) — "
                f"check its directory is writable or set {variable} to a writable path")
    reason, advice = failure_reason(url, message)
    host = f"{url.host or 'localhost'}:{url.port or 5432}"
    return f"{variable}: cannot connect to {host} ({reason}) — {advice}"


def check_connection(engine: Engine) -> None:
    """Connect once; raise `DatabaseError` with a message a user can act on when that fails."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        raise DatabaseError(describe_failure(engine.url, exc)) from exc


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_database(url: str, variable: str = ENV_VAR) -> bool:
    """Create the Postgres database that `url` (set by `variable`) names when it does not exist, connecting
    to the server's `postgres` database; True when it was created."""
    parsed = _parse(normalise_url(url))
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        raise DatabaseError(f"{variable}: {mask_url(parsed)} is not a Postgres database URL — "
                            "expected postgresql://user@host:5432/dbname")
    server = create_engine(parsed.set(drivername="postgresql+psycopg", database="postgres"),
                           isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 10})
    try:
        with server.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                            {"name": parsed.database}).first():
                return False
            conn.exec_driver_sql(f"CREATE DATABASE {conn.dialect.identifier_preparer.quote(parsed.database)}")
            return True
    except DBAPIError as exc:
        if "already exists" in str(exc.orig):  # created by another process in between
            return False
        raise DatabaseError(describe_failure(parsed, exc, variable)) from exc
    finally:
        server.dispose()


def _refuse_newer(engine: Engine, revision: str | None) -> None:
    """Fail in one line when the database is at a revision this code does not have (a newer release's)."""
    if revision is None:
        return
    try:
        ScriptDirectory.from_config(_alembic_config()).get_revision(revision)
    except CommandError:
        raise DatabaseError(
            f"{ENV_VAR}: the database at {mask_url(engine.url)} is at schema revision {revision!r}, newer than "
            f"this glue-inventory (its newest is {head_revision()!r}) — upgrade glue-inventory to the release "
            "that migrated it, or point the URL at another database") from None


def migrate(engine: Engine) -> None:
    """Upgrade the schema to head, once even when several processes start on a fresh database at once.
    A database migrated by a newer release is refused: this code would not know its tables."""
    current = current_revision(engine)
    if current == head_revision():
        return
    _refuse_newer(engine, current)
    config = _alembic_config()
    with engine.connect() as conn:
        # Both locks are held until commit: a second process waits, then finds the schema at head.
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()


def upgrade(url: str | None = None) -> None:
    """`glue-inventory db upgrade`: migrate `url` (default `GLUE_INVENTORY_DATABASE_URL`) to head."""
    engine = make_engine(database_url(url))
    try:
        check_connection(engine)
        migrate(engine)
    finally:
        engine.dispose()


def engine_for(url: str | None = None) -> Engine:
    """The process-wide engine for `url`, checked and migrated to head on first use."""
    url = database_url(url)
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            check_connection(engine)
            migrate(engine)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close and forget every cached engine (tests, shutdown)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _forget_inherited_connections() -> None:
    # A forked child must not reuse the parent's sockets; SQLAlchemy's documented recipe.
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)
