"""Dagster's Postgres storage, holding its connections between reads and writes.

dagster-postgres gives its run, event-log and schedule storages SQLAlchemy engines with `NullPool` everywhere
but the webserver: every read and write of Dagster's state opens a new Postgres connection and closes it. A
`dagster asset materialize` of the inventory made 88-145 of them (logging an event, reading a partition set,
storing a check's result), 3-5 ms each on a local server and more across a network: 0.4-0.6 s of a command
that has a few seconds of fixed cost (docs/SCALING.md); 10-14 with this storage. `PooledPostgresStorage` is
`DagsterPostgresStorage` with the same configuration, whose engines keep one connection per storage open
between uses (as the webserver's do) and open more when threads need them at once, without a limit, as before.

- A connection is checked before each use (`pool_pre_ping`) and replaced after `POOL_RECYCLE_S`, so a
  long-lived daemon survives a restarted server or a proxy that closes idle connections.
- A process forked from one that holds connections does not share them: the child's pools start empty
  (SQLAlchemy's rule for a fork, `Engine.dispose(close=False)`); Dagster's own processes are spawned anyway.
- The webserver still replaces the engines with its own (`optimize_for_webserver`), as with `postgres:`.
- A batch of events (a run's materializations, one per partition) is inserted with its rows as one JSON
  parameter (`PooledEventLogStorage.prepare_insert_event_batch`), a statement compiled once.

    storage:
      custom:
        module: glue_inventory.orchestration.dagster_storage
        class: PooledPostgresStorage
        config:                    # what `storage: postgres:` takes
          postgres_url:
            env: DAGSTER_PG_URL

Every process that reads the instance (webserver, daemon, run workers, the CLI) must have glue_inventory
installed; a deployment whose webserver or daemon runs from Dagster's own image keeps `storage: postgres:`.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from dagster import EventLogEntry
from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._serdes import ConfigurableClassData
from dagster_postgres import (
    DagsterPostgresStorage,
    PostgresEventLogStorage,
    PostgresRunStorage,
    PostgresScheduleStorage,
)
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config
from sqlalchemy import Text, bindparam, column, func, select
from sqlalchemy.engine import Engine

# Replace a pooled connection after this long (a server or proxy may drop idle ones sooner: pre-ping covers it).
POOL_RECYCLE_S = 600
# Connections kept open per storage between uses; more are opened (and closed after use) when threads need them.
POOL_SIZE = 1

_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_pooled_connections() -> None:
    """In a forked child: drop the parent's pooled connections without closing them (they are the parent's)."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_pooled_connections)


def pooled_engine(postgres_url: str, token_provider: Any = None) -> Engine:
    """An engine as dagster-postgres creates one (autocommit, its token hook), with a pool instead of none."""
    engine = create_pg_engine(postgres_url, token_provider, isolation_level="AUTOCOMMIT", pool_size=POOL_SIZE,
                              max_overflow=-1, pool_recycle=POOL_RECYCLE_S, pool_pre_ping=True)
    _ENGINES.add(engine)
    return engine


class _Pooled:
    """A dagster-postgres storage whose engine holds its connections; Dagster's `dispose()` closes them."""

    _engine: Engine

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True,
                 inst_data: ConfigurableClassData | None = None, token_provider: Any = None) -> None:
        super().__init__(postgres_url, should_autocreate_tables, inst_data, token_provider)  # type: ignore[call-arg]
        self._engine.dispose()  # a NullPool engine (its tables checked): it holds nothing
        self._engine = pooled_engine(postgres_url, token_provider)

    def dispose(self) -> None:
        super().dispose()  # type: ignore[misc]
        self._engine.dispose()


class PooledRunStorage(_Pooled, PostgresRunStorage):
    pass


class PooledEventLogStorage(_Pooled, PostgresEventLogStorage):
    def prepare_insert_event_batch(self, events: Sequence[EventLogEntry]) -> Any:
        """dagster-postgres's batch INSERT (a run's materializations, one per partition) with the rows sent as one
        JSON parameter, `INSERT … SELECT … FROM json_to_recordset(…)`, instead of a VALUES list of every row's
        columns, which SQLAlchemy compiled again for every batch: 78-167 ms of CPU per 1,000 events to compile and
        run it, 8-12 ms for this statement, compiled once (a run of 4,000 partitions stores 4,000; inside
        `bench/organization.py` storing them took 0.73-0.87 s instead of 0.92-0.96). The rows, and the order
        Postgres returns their ids in (the batch's), are dagster-postgres's."""
        rows = [self._event_to_row(event) for event in events]
        try:
            document = orjson.dumps(rows).decode() if rows else None
        except TypeError:  # a value orjson cannot write (not one `_event_to_row` gives)
            document = None
        if document is None:  # Dagster's own statement
            return super().prepare_insert_event_batch(events)
        names = list(rows[0])  # the columns `_event_to_row` fills, as Dagster's VALUES list names them
        batch = func.json_to_recordset(bindparam("rows", document, type_=Text)).table_valued(
            *(column(name, SqlEventLogStorageTable.c[name].type) for name in names),
        ).render_derived(name="batch", with_types=True)
        return SqlEventLogStorageTable.insert().from_select(names, select(*(batch.c[name] for name in names)))


class PooledScheduleStorage(_Pooled, PostgresScheduleStorage):
    pass


class PooledPostgresStorage(DagsterPostgresStorage):
    """`DagsterPostgresStorage` whose run, event-log and schedule storages keep their connections open.
    (Its `__init__` is dagster-postgres's with the pooled storages.)"""

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True,
                 inst_data: ConfigurableClassData | None = None, token_provider: Any = None) -> None:
        self.postgres_url = postgres_url
        self.should_autocreate_tables = should_autocreate_tables
        self._inst_data = inst_data
        self._run_storage = PooledRunStorage(postgres_url, should_autocreate_tables, token_provider=token_provider)
        self._event_log_storage = PooledEventLogStorage(postgres_url, should_autocreate_tables,
                                                        token_provider=token_provider)
        self._schedule_storage = PooledScheduleStorage(postgres_url, should_autocreate_tables,
                                                       token_provider=token_provider)
        DagsterStorage.__init__(self)

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None,  # type: ignore[override]
                          config_value: Mapping[str, Any]) -> PooledPostgresStorage:
        return cls(postgres_url=pg_url_from_config(config_value),
                   should_autocreate_tables=config_value.get("should_autocreate_tables", True),
                   inst_data=inst_data, token_provider=get_token_provider_from_config(config_value))
