"""Database fixtures: a throwaway SQLite file and a throwaway Postgres database."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from glue_inventory.storage.db import dispose_engines, failure_reason, make_engine, normalise_url, upgrade
from glue_inventory.storage.tables import metadata

TEST_URL_VAR = "GLUE_INVENTORY_TEST_DATABASE_URL"
DEFAULT_TEST_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
UNREACHABLE = "Postgres not reachable at"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Report every unreachable-Postgres skip at the fixture, so `-ra` folds them into one line."""
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple) and UNREACHABLE in report.longrepr[2] \
            and call.excinfo is not None:
        here = [entry for entry in call.excinfo.traceback if Path(entry.path) == Path(__file__)]
        if here:
            report.longrepr = (os.path.relpath(__file__, item.config.rootpath), here[-1].lineno + 1,
                               report.longrepr[2])
    return report


def server_url() -> URL:
    return make_url(normalise_url(os.environ.get(TEST_URL_VAR) or DEFAULT_TEST_URL))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[sa.Engine]:
    """An autocommit engine on the test server; skips (fails when CI=true) if Postgres is not reachable."""
    url = server_url()
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool,
                              connect_args={"connect_timeout": 3})
    try:
        with server.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.DBAPIError as exc:
        reason, _ = failure_reason(url, str(exc.orig))
        message = (f"{UNREACHABLE} {url.host or 'localhost'}:{url.port or 5432} ({reason}): "
                   f"set {TEST_URL_VAR} or start Postgres (make test does on CI)")
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    yield server
    server.dispose()


@contextmanager
def fresh_postgres_database(postgres_server: sa.Engine, prefix: str = "gi_test") -> Iterator[str]:
    """The URL of a fresh, empty Postgres database, dropped on leaving."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with postgres_server.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE template0")
    try:
        yield postgres_server.url.set(database=name).render_as_string(hide_password=False)
    finally:
        dispose_engines()
        with postgres_server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def postgres_url(postgres_server: sa.Engine) -> Iterator[str]:
    """A fresh, empty Postgres database, dropped afterwards."""
    with fresh_postgres_database(postgres_server) as url:
        yield url


@pytest.fixture
def dagster_database(postgres_server: sa.Engine) -> Iterator[str]:
    """The URL of a database that does not exist yet, for `glue-inventory serve` to create for Dagster's
    storage; dropped afterwards."""
    name = f"gi_test_dagster_{secrets.token_hex(6)}"
    yield postgres_server.url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    with postgres_server.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite file in the test's temporary directory."""
    yield f"sqlite:///{tmp_path / 'inventory.db'}"
    dispose_engines()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database of each kind: the test runs once on SQLite and once on Postgres."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_server: sa.Engine) -> Iterator[str]:
    """One Postgres database per test session (per xdist worker), migrated to head once."""
    name = f"gi_test_{secrets.token_hex(6)}"
    with postgres_server.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE template0")
    url = postgres_server.url.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    dispose_engines()
    with postgres_server.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _emptied(url: str) -> sa.Engine:
    # Emptying the session's database is far faster than creating and migrating one per test
    # (and DELETE than TRUNCATE, for the few rows a test leaves).
    engine = make_engine(url)
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    return engine


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    """An engine on an empty database at the latest schema: the test runs on SQLite and on Postgres.

    Its database is not the one `database_url` gives; use one fixture or the other.
    """
    if request.param == "postgres":
        engine = _emptied(request.getfixturevalue("migrated_postgres_url"))
    else:
        url = request.getfixturevalue("sqlite_url")
        upgrade(url)
        engine = make_engine(url)
    yield engine
    engine.dispose()
