"""Writes and reads of the inventory tables: idempotent, batched upserts on Postgres or SQLite.

Every function takes an Engine (it opens and commits its own transaction) or a Connection (it joins the
transaction in progress, or opens and commits one), so callers can group several writes atomically.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby, islice
from operator import itemgetter
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Json, Jsonb
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    RowMapping,
    Table,
    Text,
    bindparam,
    case,
    cast,
    column,
    false,
    func,
    null,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.dml import Insert

from glue_inventory import telemetry
from glue_inventory.analysis.types import JobRun
from glue_inventory.config import secret_credential_keys
from glue_inventory.storage.tables import (
    UTCDateTime,
    analysis_runs,
    code_analysis_cache,
    data_jobs,
    deep_analysis_candidates,
    job_runs,
    llm_cache,
    platforms,
    utcnow,
)

Bind = Engine | Connection
BATCH_SIZE = 1000
COPY_SIZE = 10_000  # runs per COPY into the staging table (Postgres)
# A session's temporary table per table written by COPY (Postgres with psycopg 3), named after the table.
_STAGING = "glue_inventory_{}_staging"
_INSUFFICIENT_PRIVILEGE = "42501"
# SQLite allows 32766 bound parameters per statement; stay far below for IN lists.
IN_CHUNK = 500
_CANDIDATES_LOCK = 0x6769_6361_6E64  # advisory lock key: one candidate replacement at a time on Postgres
_CACHE_TABLES = {table.name: table for table in (code_analysis_cache, llm_cache)}
_JOB_MANAGED = {"id", "platform_id", "first_seen_at", "last_seen_at", "deleted_at", "created_at",
                "updated_at"}
_JOB_INSERT_ONLY = {"platform_id", "name", "first_seen_at", "created_at"}
RunState = tuple[str, datetime | None]


@contextmanager
def transaction(bind: Bind) -> Iterator[Connection]:
    """A connection inside a transaction: the caller's when one is open, else a new one committed on exit."""
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            yield conn
    elif bind.in_transaction():
        yield bind
    else:
        with bind.begin():
            yield bind


def dialect_insert(conn: Connection, table: Table) -> Insert:
    dialects = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
    if conn.dialect.name not in dialects:
        raise NotImplementedError(f"upserts support Postgres and SQLite, not {conn.dialect.name}")
    return dialects[conn.dialect.name](table)


def chunks(items: Iterable[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _by_keys(rows: Iterable[dict[str, Any]]) -> dict[frozenset[str], list[dict[str, Any]]]:
    """Rows grouped by their key sets: one executemany statement serves one set of columns."""
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    return groups


def _unique(rows: Iterable[dict[str, Any]], *key: str) -> list[dict[str, Any]]:
    """The last row per key: Postgres refuses an upsert that touches the same row twice in one statement."""
    get = itemgetter(*key)
    return list({get(row): row for row in rows}.values())


def _check_columns(table: Table, keys: Iterable[str], forbidden: Collection[str] = ()) -> None:
    unknown = sorted(set(keys) - set(table.c.keys()))
    refused = sorted(set(keys) & forbidden)
    if unknown or refused:
        raise ValueError(f"{table.name}: unknown columns {unknown}" if unknown
                         else f"{table.name}: columns {refused} are managed by the repository")


def _bulk_write(table_name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """One span per bulk write (its rows in batches inside), never one per row."""

    def decorate(write: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(write)
        def traced(bind: Bind, *args: Any, **kwargs: Any) -> Any:
            with telemetry.span(f"db {write.__name__}", {"db.collection.name": table_name,
                                                          "db.operation.name": write.__name__}) as span:
                result = write(bind, *args, **kwargs)
                rows = result if isinstance(result, int) else len(result) if isinstance(result, dict) else None
                if rows is not None:
                    span.set_attribute("db.operation.batch.size", rows)
                return result

        return traced

    return decorate


def upsert_platform(bind: Bind, name: str, platform_type: str, account_id: str, region: str,
                    credentials: Mapping[str, str], status: str = "ok", last_error: str | None = None,
                    synced_at: datetime | None = None, source: str = "config", account_name: str | None = None,
                    ou_path: str | None = None) -> int:
    """Insert or update one platform (unique name, account, region); returns its id. `source` is `config` or
    `organization` (then with the account's name and OU path)."""
    secrets = secret_credential_keys(credentials)
    if secrets:
        raise ValueError(f"platform {name}: credentials {secrets} look like secrets; store a role_arn or "
                         "profile name and let boto3 find the credentials")
    now = synced_at or utcnow()
    values = {"platform_type": platform_type, "credentials": dict(credentials), "status": status,
              "last_error": last_error, "last_synced_at": now, "updated_at": now, "source": source,
              "account_name": account_name, "ou_path": ou_path}
    with transaction(bind) as conn:
        stmt = dialect_insert(conn, platforms).values(name=name, account_id=account_id, region=region,
                                               created_at=now, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["name", "account_id", "region"], set_=values)
        return conn.execute(stmt.returning(platforms.c.id)).scalar_one()


@_bulk_write("data_jobs")
def upsert_jobs(bind: Bind, platform_id: int, jobs: list[dict[str, Any]],
                seen_at: datetime) -> dict[str, int]:
    """Insert or update job definitions of one platform; returns name → id.

    first_seen_at is set on insert only, last_seen_at every time, deleted_at cleared (a deleted job
    that reappears loses its "deleted" status). Columns a row does not carry keep their stored value.
    """
    for job in jobs:
        _check_columns(data_jobs, job, _JOB_MANAGED)
    seen = {"last_seen_at": seen_at, "deleted_at": None, "updated_at": seen_at}
    rows = [{**job, **seen, "platform_id": platform_id, "first_seen_at": seen_at, "created_at": seen_at}
            for job in _unique(jobs, "name")]
    with transaction(bind) as conn:
        # On Postgres with psycopg 3 the rows are COPYed into the staging table and upserted in one statement
        # (see `_staging`); elsewhere a plain executemany, one short statement pipelined (psycopg). No
        # RETURNING: it makes SQLAlchemy render 1,000-row statements psycopg parses anew each time (measured:
        # 2.5 s of the 3 s to store 5,000 jobs). The ids are read back in one query.
        by_copy = _staging(conn, data_jobs)
        for keys, group in _by_keys(rows).items():
            for chunk in chunks(group, COPY_SIZE if by_copy else BATCH_SIZE):
                _insert(conn, data_jobs, chunk, by_copy, functools.partial(_upsert_jobs_statement, keys))
        names = {row["name"] for row in rows}
        stored = conn.execute(select(data_jobs.c.name, data_jobs.c.id).where(data_jobs.c.platform_id == platform_id))
        ids = {name: job_id for name, job_id in stored if name in names}
    return ids


def _upsert_jobs_statement(keys: Collection[str], stmt: Insert, _staged_names: Collection[str]) -> Insert:
    """`stmt` (an INSERT into data_jobs) on conflict updates the columns the rows carry (`keys`, not the defaults
    an insert adds) but those set on insert only, and un-deletes a deleted job unless the rows set its status."""
    set_ = {key: stmt.excluded[key] for key in set(keys) - _JOB_INSERT_ONLY}
    if "status" not in keys:
        set_["status"] = case((data_jobs.c.status == "deleted", None), else_=data_jobs.c.status)
    return stmt.on_conflict_do_update(index_elements=["platform_id", "name"], set_=set_)


def mark_deleted(bind: Bind, platform_id: int, live_names: set[str], now: datetime) -> list[str]:
    """Mark the platform's jobs missing from `live_names` deleted (rows and run history are kept)."""
    with transaction(bind) as conn:
        stored = conn.execute(select(data_jobs.c.id, data_jobs.c.name).where(
            data_jobs.c.platform_id == platform_id, data_jobs.c.deleted_at.is_(None))).all()
        gone = [(job_id, name) for job_id, name in stored if name not in live_names]
        stmt = update(data_jobs).values(status="deleted", deleted_at=now, updated_at=now)
        for chunk in chunks([job_id for job_id, _ in gone], IN_CHUNK):
            conn.execute(stmt.where(data_jobs.c.id.in_(chunk)))
    return sorted(name for _, name in gone)


def _runs_by_job(bind: Bind, data_job_ids: Iterable[int], *columns: Column) -> dict[int, dict[str, Any]]:
    """job id → run id → the run's `columns` (a tuple; the value itself for one column), for every stored
    run of many jobs; every asked id is a key. Rows are fetched a chunk of jobs at a time, in bulk."""
    found: dict[int, dict[str, Any]] = {}
    query = select(job_runs.c.data_job_id, job_runs.c.run_id, *columns)
    with transaction(bind) as conn:
        for chunk in chunks(data_job_ids, IN_CHUNK):
            for job_id in chunk:
                found.setdefault(job_id, {})
            rows = conn.execute(query.where(job_runs.c.data_job_id.in_(chunk))).all()
            if len(columns) == 1:
                for job_id, run_id, value in rows:
                    found[job_id][run_id] = value
            else:
                for job_id, run_id, *values in rows:
                    found[job_id][run_id] = tuple(values)
    return found


def existing_runs_bulk(bind: Bind, data_job_ids: Iterable[int]) -> dict[int, dict[str, RunState]]:
    """Stored runs of many jobs: job id → run id → (state, started_on); every asked id is a key."""
    return _runs_by_job(bind, data_job_ids, job_runs.c.state, job_runs.c.started_on)


def run_states_bulk(bind: Bind, data_job_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """The state of every stored run of many jobs: job id → run id → state; every asked id is a key. What a
    refresh compares each page with: no start time (a column type converted per run).

    On Postgres each job's states come as one JSON object (`json_object_agg`, decoded by orjson): a refresh
    reads every stored run's state, and a row per run cost the client several times the CPU (383,548 runs:
    0.57 s of CPU as rows, 0.13 s as one object per job)."""
    with transaction(bind) as conn:
        if conn.dialect.name != "postgresql":
            return _runs_by_job(conn, data_job_ids, job_runs.c.state)
        found: dict[int, dict[str, str]] = {}
        states = cast(func.json_object_agg(job_runs.c.run_id, job_runs.c.state), Text)  # decoded here, by orjson
        query = select(job_runs.c.data_job_id, states).group_by(job_runs.c.data_job_id)
        for chunk in chunks(data_job_ids, IN_CHUNK):
            found.update((job_id, {}) for job_id in chunk)
            for job_id, job_states in conn.execute(query.where(job_runs.c.data_job_id.in_(chunk))):
                found[job_id] = orjson.loads(job_states)
        return found


def existing_runs(bind: Bind, data_job_id: int) -> dict[str, RunState]:
    """Stored runs of one job: run id → (state, started_on)."""
    return existing_runs_bulk(bind, [data_job_id])[data_job_id]


@_bulk_write("job_runs")
def upsert_runs(bind: Bind, rows: Iterable[dict[str, Any]]) -> int:
    """Insert or update runs (unique job, run id) in batches; an update only writes a run that changed,
    e.g. RUNNING that became SUCCEEDED. Returns the number of rows sent.

    On Postgres with psycopg 3 a batch is COPYed into a temporary table and upserted from there in one
    statement: a refresh stores hundreds of thousands of runs, and binding each row's parameters costs the
    client several times the CPU of streaming it."""
    sent = 0
    with transaction(bind) as conn:
        by_copy = _staging(conn, job_runs)
        for chunk in chunks(rows, COPY_SIZE if by_copy else BATCH_SIZE):
            chunk = _unique(chunk, "data_job_id", "run_id")
            for keys, group in _by_keys(chunk).items():
                _check_columns(job_runs, keys, {"id"})
                _insert(conn, job_runs, group, by_copy, _upsert_runs_statement)
            sent += len(chunk)
    return sent


def _upsert_runs_statement(stmt: Insert, keys: Collection[str]) -> Insert:
    """`stmt` (an INSERT into job_runs) on conflict updates the run, only where a column changed."""
    changing = sorted(set(keys) - {"data_job_id", "run_id", "fetched_at"})
    set_ = {key: stmt.excluded[key] for key in [*changing, "fetched_at"]}
    changed = or_(false(), *(job_runs.c[key].is_distinct_from(stmt.excluded[key]) for key in changing))
    return stmt.on_conflict_do_update(index_elements=["data_job_id", "run_id"], set_=set_, where=changed)


def _staging(conn: Connection, target: Table) -> bool:
    """Whether rows for `target` can be COPYed into the session's temporary table for it (its columns, without
    their constraints; created once per session): Postgres with psycopg 3, and a role allowed to create temporary
    tables. A database that does not let the tool's role do so (REVOKE TEMPORARY, a hardening some teams apply)
    gets the statement per row instead of an error."""
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        return False
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING.format(target.name)} "
                                 f"ON COMMIT DELETE ROWS AS SELECT * FROM {target.name} WITH NO DATA")
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != _INSUFFICIENT_PRIVILEGE:
            raise
        return False
    return True


def _copy_staged(conn: Connection, target: Table, rows: list[dict[str, Any]], defaults: bool = True) -> list[str]:
    """`rows` (one set of columns) COPYed into the session's staging table of `target`, with what SQLAlchemy
    adds to an INSERT it binds (a column's Python default: attempt 0, created_at now) when `defaults`; returns
    the staged column names. The caller writes from the staging table, then empties it (`_unstage`).

    The rows go in COPY's binary format, typed as the staging table's columns: psycopg formats a row of runs
    in about a tenth of the CPU the text format takes. A value the binary format would take otherwise than
    the database (text in a number column, a number past the column's integer) sends the batch again as
    text, where the database takes it or refuses it as an INSERT would."""
    added = {c.name: c.default.arg if c.default.is_scalar else c.default.arg(None)
             for c in target.columns if defaults and c.name not in rows[0] and c.default is not None
             and c.name != "id"}
    given = list(rows[0])
    names = [*given, *added]
    staging = _STAGING.format(target.name)
    with conn.connection.driver_connection.cursor() as cursor:
        cursor.execute("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
                       (staging,))
        oids = dict(cursor.fetchall())
    sql = f"COPY {staging} ({', '.join(names)}) FROM STDIN"
    try:
        with conn.begin_nested():
            _copy(conn, target, f"{sql} (FORMAT BINARY)", rows, given, added, [oids[name] for name in names])
    except _NOT_BINARY:
        # As text, the errors an INSERT would raise, as SQLAlchemy raises them: a naive timestamp, a value the
        # column cannot hold.
        try:
            _copy(conn, target, sql, rows, given, added, None)
        except ValueError as exc:
            raise StatementError(str(exc), sql, None, exc) from None
        except conn.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, None, exc, conn.dialect.loaded_dbapi.Error) from None
    return names


# What psycopg raises for a value its binary dumper of the column's type does not take (or `_copy` for an
# integer the column cannot hold, which the dumper would wrap around), and what the database then says.
_NOT_BINARY = (TypeError, ValueError, OverflowError, psycopg.Error)
# Integer types by oid: their bounds (the binary format writes what does not fit as a wrapped-around value).
_INTEGER_BITS = {21: 16, 23: 32, 20: 64}
_JSON_OIDS = {114: Json, 3802: Jsonb}


def _copy(conn: Connection, target: Table, sql: str, rows: list[dict[str, Any]], given: list[str],
          added: dict[str, Any], types: list[int] | None) -> None:
    """One COPY (`sql`) of `rows`: binary, typed by `types` (the staging table's column oids), or text (None)."""
    names = [*given, *added]
    converted, timestamps, integers = [], [], []
    for index, name in enumerate(names):
        type_, oid = target.c[name].type, types[index] if types else None
        if oid and isinstance(type_, UTCDateTime):
            # In the binary format an aware timestamp's instant is stored in any zone: only a naive one is refused.
            timestamps.append(index)
            continue
        if oid in _INTEGER_BITS:  # checked after its type's conversion, if it has one
            bits = _INTEGER_BITS[oid]
            integers.append((index, -(1 << (bits - 1)), (1 << (bits - 1)) - 1))
        if convert := _copy_conversion(type_, conn.dialect, oid):
            converted.append((index, convert))
    with conn.connection.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
        if types:
            copy.set_types(types)
        get, defaults = _values_of(given), list(added.values())
        for row in rows:
            values = [*get(row), *defaults]
            for index, convert in converted:
                values[index] = convert(values[index])
            # Checked here, not by a function per value: a COPY of runs is hundreds of thousands of rows (the COPY's
            # CPU in `bench/organization.py` 3.16 -> 2.60 s). What is refused goes as text, which says why.
            for index in timestamps:
                value = values[index]
                if value is not None and value.tzinfo is None:
                    raise ValueError("a naive timestamp")
            for index, low, high in integers:
                value = values[index]
                if value is not None and not low <= value <= high:
                    raise OverflowError("an integer past the column's bounds")
            copy.write_row(values)


def _values_of(names: list[str]) -> Callable[[Mapping[str, Any]], tuple]:
    """A row's values of `names`, in order, as a tuple (itemgetter gives a bare value for one name)."""
    get = itemgetter(*names)
    return get if len(names) > 1 else lambda row: (get(row),)


def _copy_conversion(type_: Any, dialect: Any, oid: int | None = None) -> Callable[[Any], Any] | None:
    """What a value of a column of `type_` goes through before COPY: the type's own conversion (UTCDateTime refuses
    a naive timestamp), JSON serialized as a statement would (psycopg adapts a dict only where the statement names
    the column's type; None is JSON null). In the binary format (`oid`, the column's type), JSON is wrapped for
    psycopg's dumper of that type (`_copy` checks an integer against the column's bounds)."""
    if oid in _JSON_OIDS:
        return _JSON_OIDS[oid]
    if isinstance(type_, JSON):
        return json.dumps
    return type_.bind_processor(dialect)


def _staged(target: Table, names: list[str]) -> Any:
    return select(*(column(name) for name in names)).select_from(table(_STAGING.format(target.name)))


def _unstage(conn: Connection, target: Table) -> None:
    conn.exec_driver_sql(f"TRUNCATE {_STAGING.format(target.name)}")


def _insert(conn: Connection, target: Table, rows: list[dict[str, Any]], by_copy: bool,
            on_conflict: Callable[[Insert, Collection[str]], Insert]) -> None:
    """`rows` (one set of columns) inserted into `target` by one INSERT that `on_conflict(stmt, columns)` completes:
    COPYed into the staging table and inserted from it (`by_copy`, see `_staging`), else bound as parameters."""
    if by_copy:
        names = _copy_staged(conn, target, rows)
        conn.execute(on_conflict(postgresql.insert(target).from_select(names, _staged(target, names)), names))
        _unstage(conn, target)
    else:
        conn.execute(on_conflict(dialect_insert(conn, target), list(rows[0])), rows)


@_bulk_write("data_jobs")
def update_job_metrics(bind: Bind, rows: list[dict[str, Any]]) -> None:
    """Bulk update of computed columns (status, priority, metrics, last_run_at, …) by job `id`."""
    now = utcnow()
    with transaction(bind) as conn:
        # The preliminary metrics of every job of a run (5,000 in a large one) in one statement per COPY, not
        # one statement per job: about half the time (docs/SCALING.md, the metrics write).
        by_copy = _staging(conn, data_jobs)
        for keys, group in _by_keys(rows).items():
            columns = sorted(keys - {"id"})
            _check_columns(data_jobs, columns, _JOB_MANAGED)
            if by_copy:
                staged = table(_STAGING.format(data_jobs.name), *(column(name) for name in ["id", *columns]))
                stmt = (update(data_jobs).where(data_jobs.c.id == staged.c.id)
                        .values({**{name: staged.c[name] for name in columns}, "updated_at": now}))
                # UPDATE … FROM takes one staged row per job, where the statements applied each in turn: the last.
                for chunk in chunks(_unique(group, "id"), COPY_SIZE):
                    _copy_staged(conn, data_jobs, chunk, defaults=False)
                    conn.execute(stmt)
                    _unstage(conn, data_jobs)
                continue
            values: dict[str, Any] = {column: bindparam(f"b_{column}", type_=data_jobs.c[column].type)
                                      for column in columns}
            values["updated_at"] = now
            stmt = update(data_jobs).where(data_jobs.c.id == bindparam("b_id")).values(values)
            for chunk in chunks(group, BATCH_SIZE):
                conn.execute(stmt, [{f"b_{key}": value for key, value in row.items()} for row in chunk])


# One row per analysis of a job in a Dagster run (the table's unique constraint).
_ANALYSIS_RUN_KEY = ["data_job_id", "analysis_type", "dagster_run_id"]


@_bulk_write("analysis_runs")
def insert_analysis_runs(bind: Bind, rows: list[dict[str, Any]]) -> int:
    """Record analyses; a retried step of the same Dagster run replaces its row instead of adding one."""
    with transaction(bind) as conn:
        by_copy = _staging(conn, analysis_runs)
        for keys, group in _by_keys(_unique(rows, *_ANALYSIS_RUN_KEY)).items():
            _check_columns(analysis_runs, keys, {"id"})
            replace = functools.partial(_replace_analysis_run, given=keys)
            for chunk in chunks(group, COPY_SIZE if by_copy else BATCH_SIZE):
                _insert(conn, analysis_runs, chunk, by_copy, replace)
    return len(rows)


def _replace_analysis_run(stmt: Insert, _columns: Collection[str], given: Collection[str]) -> Insert:
    """`stmt` (an INSERT into analysis_runs) on conflict replaces the columns the rows `given`, never `created_at`
    nor a column's default the rows did not give (a staged INSERT names those too)."""
    set_ = {column: stmt.excluded[column] for column in set(given) - set(_ANALYSIS_RUN_KEY) - {"created_at"}}
    return stmt.on_conflict_do_update(index_elements=_ANALYSIS_RUN_KEY, set_=set_) if set_ else \
        stmt.on_conflict_do_nothing(index_elements=_ANALYSIS_RUN_KEY)


@_bulk_write("deep_analysis_candidates")
def replace_candidates(bind: Bind, dagster_run_id: str, rows: list[dict[str, Any]]) -> int:
    """Make `rows` the current candidate list; earlier lists stay as history with is_current false."""
    table = deep_analysis_candidates
    with transaction(bind) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CANDIDATES_LOCK})
        conn.execute(update(table).where(table.c.is_current).values(is_current=False))
        conn.execute(table.delete().where(table.c.dagster_run_id == dagster_run_id))
        current = [{**row, "dagster_run_id": dagster_run_id, "is_current": True} for row in rows]
        by_copy = _staging(conn, table)  # COPYed on Postgres (see `_staging`): a list holds thousands of jobs
        for group in _by_keys(current).values():
            for chunk in chunks(group, COPY_SIZE if by_copy else BATCH_SIZE):
                _insert(conn, table, chunk, by_copy, _plain_insert)
    return len(rows)


def _plain_insert(stmt: Insert, _names: Collection[str]) -> Insert:
    return stmt


def jobs_by_partition_key(bind: Bind, partition_keys: Iterable[str]) -> dict[str, RowMapping]:
    """data_jobs rows of the given partition keys (keys not stored are absent)."""
    found: dict[str, RowMapping] = {}
    with transaction(bind) as conn:
        for chunk in chunks(partition_keys, IN_CHUNK):
            for row in conn.execute(select(data_jobs).where(data_jobs.c.partition_key.in_(chunk))).mappings():
                found[row["partition_key"]] = row
    return found


@dataclass
class RunHistory:
    """What metrics need of long stored histories: per job, the runs in a window and its latest runs (oldest
    first), and the count of all its runs."""

    runs: dict[int, list[JobRun]]
    counts: dict[int, int]


# What a run's metrics are computed from, in `JobRun`'s order: what Glue said of it, not its row id, the cost
# and DPU-hours stored from those facts or when it was fetched. Its error text is not read (NULL): the
# metrics do not use it, and it is the longest column.
_RUN_RECORD = tuple(null().label(name) if name == "error_message"
                    else func.coalesce(job_runs.c.attempt, 0).label(name) if name == "attempt"
                    else job_runs.c[name] for name in JobRun._fields)


def run_history_for_metrics(bind: Bind, data_job_ids: Iterable[int], since: datetime) -> RunHistory:
    """Per job: every run started at or after `since`, the runs started at its latest StartedOn (the
    latest run, even outside the window; retries can share it), and the count of all its runs. Runs come as
    `JobRun` records built straight from the rows (`_RUN_RECORD`), without an error message."""
    history = RunHistory(runs={}, counts={})
    with transaction(bind) as conn:
        for chunk in chunks(data_job_ids, IN_CHUNK):
            latest = (select(job_runs.c.data_job_id, func.max(job_runs.c.started_on).label("latest"),
                             func.count().label("runs"))
                      .where(job_runs.c.data_job_id.in_(chunk)).group_by(job_runs.c.data_job_id).subquery())
            for job_id, _, runs in conn.execute(select(latest)):
                history.counts[job_id] = runs
            query = (select(job_runs.c.data_job_id, *_RUN_RECORD)
                     .join(latest, latest.c.data_job_id == job_runs.c.data_job_id)
                     .where(or_(job_runs.c.started_on >= since, job_runs.c.started_on == latest.c.latest))
                     .order_by(job_runs.c.data_job_id, job_runs.c.started_on, job_runs.c.run_id))
            # Fetched at once: iterating the result calls the driver's fetchone for each row.
            rows = _driver_rows(conn, query) if conn.dialect.driver == "psycopg" else conn.execute(query).all()
            for job_id, runs in groupby(rows, itemgetter(0)):
                history.runs[job_id] = [JobRun._make(row[1:]) for row in runs]
    return history


def _driver_rows(conn: Connection, query: Any) -> list[tuple]:
    """The rows of `query` as psycopg 3 gives them: tuples, in the binary format, timestamps in UTC (the transaction's
    time zone is UTC for the query, then what it was). A refresh reads every job's window of runs back (about
    200,000 at 4,000 jobs): SQLAlchemy's row objects and its timestamp conversion per value took 0.76 s of the
    calling thread's CPU in `bench/organization.py`'s refresh, these 0.47 s."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    try:
        with conn.connection.driver_connection.cursor() as cursor:
            zone = cursor.execute("SELECT current_setting('TimeZone')").fetchone()[0]
            cursor.execute("SET LOCAL TIME ZONE 'UTC'")
            rows = cursor.execute(str(compiled), compiled.params, binary=True).fetchall()
            # Not on an error: the transaction is rolled back then, and its time zone with it.
            cursor.execute("SELECT set_config('TimeZone', %s, true)", (zone,))
    except conn.dialect.loaded_dbapi.Error as exc:  # raised as SQLAlchemy raises a statement's errors
        raise DBAPIError.instance(str(compiled), None, exc, conn.dialect.loaded_dbapi.Error) from None
    return rows


def _cache_table(table: Table | str) -> Table:
    name = table if isinstance(table, str) else table.name
    if name not in _CACHE_TABLES:
        raise ValueError(f"{name} is not a cache table; use one of {sorted(_CACHE_TABLES)}")
    return _CACHE_TABLES[name]


def cache_get(bind: Bind, table: Table | str, key: str) -> Any | None:
    """The cached result for `key`, or None."""
    cache = _cache_table(table)
    with transaction(bind) as conn:
        return conn.execute(select(cache.c.result).where(cache.c.cache_key == key)).scalar_one_or_none()


def cache_put(bind: Bind, table: Table | str, key: str, value: Any) -> None:
    """Store `value` (JSON) under `key`, replacing what was there."""
    cache = _cache_table(table)
    with transaction(bind) as conn:
        stmt = dialect_insert(conn, cache).values(cache_key=key, result=value, created_at=utcnow())
        conn.execute(stmt.on_conflict_do_update(index_elements=["cache_key"],
                                                set_={"result": stmt.excluded.result,
                                                      "created_at": stmt.excluded.created_at}))


__all__ = [
    "BATCH_SIZE", "IN_CHUNK", "Bind", "RunHistory", "RunState", "cache_get", "cache_put", "chunks", "existing_runs",
    "existing_runs_bulk", "insert_analysis_runs", "jobs_by_partition_key", "mark_deleted", "replace_candidates",
    "run_history_for_metrics", "run_states_bulk", "transaction", "update_job_metrics", "upsert_jobs",
    "upsert_platform", "upsert_runs",
]
