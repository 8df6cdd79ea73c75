"""The work behind `job_preliminary_metrics`: fetch new runs per job, store them, compute metrics.

Runs are written in batches as fetches finish (one transaction per batch, each job's runs together
with the flag that says its stored history is complete), so memory stays flat however long the
histories are. Metrics read back only what they need: the window's runs and each job's latest.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice

import sqlalchemy as sa
from botocore.exceptions import BotoCoreError, ClientError

from glue_inventory.analysis.billing import run_cost_usd, run_dpu_hours
from glue_inventory.analysis.metrics import preliminary_metrics
from glue_inventory.analysis.secrets import redact_text
from glue_inventory.analysis.status import window_start
from glue_inventory.analysis.types import JobRun, JobSpec
from glue_inventory.aws.clients import PlatformSession
from glue_inventory.aws.glue import THROTTLING, describe_error, error_code, fetch_new_runs
from glue_inventory.aws.parse import parse_job_run
from glue_inventory.config import Settings
from glue_inventory.partitions import decode_partition_key, spread_over_platforms
from glue_inventory.storage import repository
from glue_inventory.storage.tables import data_jobs, platforms

# Jobs whose stored runs are read together, and the most stored per transaction: bounds memory.
CHUNK = 250
# Runs stored per transaction (more when one job's fetch alone is larger).
WRITE_ROWS = 5000
# Fetches queued per thread, so the pool keeps busy while the calling thread writes.
IN_FLIGHT_PER_WORKER = 16
PROGRESS_EVERY_S = 10.0


@dataclass
class JobRecord:
    key: str
    id: int
    region: str
    account_id: str
    spec: JobSpec
    status: str | None
    history_complete: bool
    secret_argument_names: list[str]


@dataclass
class Fetched:
    """One job's fetch: its new and changed runs as `job_runs` rows, or the error that stopped it."""

    record: JobRecord
    known: dict[str, str]
    rows: list[dict] = field(default_factory=list)
    pages: int = 0
    error: str | None = None
    throttled: bool = False


@dataclass
class RefreshStats:
    jobs_total: int = 0
    jobs_done: int = 0
    jobs_failed: int = 0
    runs_changed: int = 0
    pages: int = 0


def load_job_records(engine: sa.Engine, keys: list[str]) -> dict[str, JobRecord]:
    records: dict[str, JobRecord] = {}
    query = (sa.select(data_jobs, platforms.c.region, platforms.c.account_id)
             .join(platforms, platforms.c.id == data_jobs.c.platform_id))
    with engine.connect() as conn:
        for start in range(0, len(keys), 1000):
            batch = keys[start:start + 1000]
            for row in conn.execute(query.where(data_jobs.c.partition_key.in_(batch))).mappings():
                spec = JobSpec(
                    name=row["name"], job_type=row["job_type"], worker_type=row["worker_type"],
                    number_of_workers=row["number_of_workers"], max_capacity=row["max_capacity"],
                    glue_version=row["glue_version"], execution_class=row["execution_class"],
                    script_location=row["script_location"], created_on=row["created_on"],
                    default_arguments=dict.fromkeys(row["default_argument_names"] or [], ""),
                    tags=row["tags"] or {},
                )
                records[row["partition_key"]] = JobRecord(
                    key=row["partition_key"], id=row["id"], region=row["region"], account_id=row["account_id"],
                    spec=spec, status=row["status"], history_complete=bool(row["runs_history_complete"]),
                    secret_argument_names=list(row["secret_argument_names"] or []))
    return records


def run_row(record: JobRecord, run: JobRun, settings: Settings, fetched_at: datetime) -> dict:
    return {
        "data_job_id": record.id, "run_id": run.run_id, "attempt": run.attempt, "state": run.state,
        "started_on": run.started_on, "completed_on": run.completed_on,
        "execution_time_s": run.execution_time_s, "dpu_seconds": run.dpu_seconds,
        "dpu_hours": run_dpu_hours(run, record.spec),
        "estimated_cost_usd": run_cost_usd(run, record.spec, record.region, settings.pricing),
        "worker_type": run.worker_type, "number_of_workers": run.number_of_workers,
        "max_capacity": run.max_capacity, "glue_version": run.glue_version,
        "execution_class": run.execution_class,
        "error_message": redact_text(run.error_message) if run.error_message else None,
        "fetched_at": fetched_at,
    }


def stored_run(row) -> JobRun:
    return JobRun(
        run_id=row["run_id"], state=row["state"], started_on=row["started_on"], completed_on=row["completed_on"],
        execution_time_s=row["execution_time_s"], dpu_seconds=row["dpu_seconds"],
        worker_type=row["worker_type"], number_of_workers=row["number_of_workers"],
        max_capacity=row["max_capacity"], glue_version=row["glue_version"],
        execution_class=row["execution_class"], attempt=row["attempt"] or 0)


class PreliminaryRunner:
    """Fetches new runs of many jobs on a bounded thread pool and writes them from the calling thread.

    Fetching threads never wait for the database: finished fetches are stored in batches (one
    transaction of up to `WRITE_ROWS` runs, each job's history flag with its runs), and the metrics of
    a batch are computed as soon as it is stored, while the pool keeps fetching.
    """

    def __init__(self, *, aws, settings: Settings, engine: sa.Engine, log, now: datetime | None = None):
        self.aws = aws
        self.settings = settings
        self.engine = engine
        self.log = log
        self.now = now or datetime.now(UTC)
        self.stats = RefreshStats()
        self._lock = threading.Lock()
        self._last_progress = 0.0
        self._started = 0.0

    def _sessions_by_target(self, records: Iterable[JobRecord]) -> dict[tuple[str, str], PlatformSession]:
        wanted = {(r.account_id, r.region) for r in records}
        found: dict[tuple[str, str], PlatformSession] = {}
        for session in self.aws.sessions():
            if session.region not in {region for _, region in wanted}:
                continue
            try:
                found.setdefault((session.resolve_account_id(), session.region), session)
            except (ClientError, BotoCoreError) as exc:
                self.log.warning(f"platform {session.name}: cannot resolve its account: {exc}")
        return found

    def run(self, keys: list[str]) -> dict[str, dict]:
        self._started = time.monotonic()
        records = load_job_records(self.engine, keys)
        results: dict[str, dict] = {}
        for key in keys:
            if key not in records:
                decode_partition_key(key)  # a malformed key fails here with a clear message
                results[key] = {"status": None, "metrics": None,
                                "last_error": "job not in the inventory: materialize glue_jobs first"}
        by_key = {r.key: r for r in records.values() if r.status != "deleted"}
        live = [by_key[key] for key in spread_over_platforms(sorted(by_key))]
        self.stats.jobs_total = len(records)
        results.update(self._refresh(live, self._sessions_by_target(live)))
        for record in records.values():
            if record.status == "deleted":
                results[record.key] = self._deleted_row(record)
        self._progress(force=True)
        return results

    def _refresh(self, live: list[JobRecord], sessions) -> dict[str, dict]:
        results: dict[str, dict] = {}
        throttled: list[Fetched] = []
        batch: list[Fetched] = []
        todo = self._with_stored_runs(live)
        workers = self.settings.max_workers
        pool = ThreadPoolExecutor(max_workers=workers)
        pending: set[Future[Fetched]] = set()

        def submit_more() -> None:
            for record, known in islice(todo, IN_FLIGHT_PER_WORKER * workers - len(pending)):
                pending.add(pool.submit(self._fetch, sessions, record, known))

        try:
            submit_more()
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                submit_more()
                for future in done:
                    fetched = future.result()
                    (throttled if fetched.throttled else batch).append(fetched)
                if batch and (not pending or len(batch) >= CHUNK
                              or sum(len(f.rows) for f in batch) >= WRITE_ROWS):
                    results.update(self._store(batch))
                    batch = []
                self._progress()
        finally:
            # On an error (the database went away) the queued fetches are dropped, not waited for.
            pool.shutdown(wait=True, cancel_futures=True)
        # A job throttled past botocore's retries gets one more, unhurried try: a throttling storm
        # slows the refresh down but does not fail jobs.
        retried = [self._fetch(sessions, f.record, f.known, last_try=True) for f in throttled]
        results.update(self._store(batch + retried))
        return results

    def _with_stored_runs(self, live: list[JobRecord]) -> Iterator[tuple[JobRecord, dict[str, str]]]:
        """Each job with the states of its stored runs, read from the database CHUNK jobs at a time."""
        for start in range(0, len(live), CHUNK):
            chunk = live[start:start + CHUNK]
            with self.engine.connect() as conn:
                known = repository.existing_runs_bulk(conn, [r.id for r in chunk])
            for record in chunk:
                yield record, {run_id: state for run_id, (state, _) in known.pop(record.id, {}).items()}

    def _fetch(self, sessions, record: JobRecord, known: dict[str, str], last_try: bool = False) -> Fetched:
        """New and changed runs of one job as `job_runs` rows; an error is recorded, never raised."""
        fetched = Fetched(record, known)
        session = sessions.get((record.account_id, record.region))
        try:
            if session is None:
                fetched.error = f"no configured platform reaches account {record.account_id} in {record.region}"
            else:
                fetch = fetch_new_runs(session.client("glue"), record.spec.name, known, record.history_complete)
                fetched_at = datetime.now(UTC)
                fetched.rows = [run_row(record, parse_job_run(raw), self.settings, fetched_at)
                                for raw in fetch.changed]
                fetched.pages = fetch.pages
        except ClientError as exc:
            fetched.error = redact_text(describe_error(exc))
            fetched.throttled = error_code(exc) in THROTTLING and not last_try
        except (BotoCoreError, OSError, ValueError) as exc:
            fetched.error = redact_text(f"{type(exc).__name__}: {exc}")
        if not fetched.throttled:
            with self._lock:
                self.stats.jobs_done += 1
                self.stats.jobs_failed += fetched.error is not None
        return fetched

    def _store(self, batch: list[Fetched]) -> dict[str, dict]:
        """One transaction: the batch's runs, and the flag that says a job's stored history is complete
        (set with the runs that complete it, so a crash in between never leaves the flag alone)."""
        if not batch:
            return {}
        completed = [f.record.id for f in batch if f.error is None and not f.record.history_complete]
        with self.engine.begin() as conn:
            repository.upsert_runs(conn, (row for f in batch for row in f.rows))
            if completed:
                conn.execute(sa.update(data_jobs).where(data_jobs.c.id.in_(completed))
                             .values(runs_history_complete=True))
        with self._lock:
            self.stats.pages += sum(f.pages for f in batch)
            self.stats.runs_changed += sum(len(f.rows) for f in batch)
        return self._metrics([f.record for f in batch], {f.record.key: f.error for f in batch if f.error})

    def _metrics(self, jobs: list[JobRecord], errors: dict[str, str]) -> dict[str, dict]:
        """Metrics from the stored history: the runs of the window and each job's latest, plus a count."""
        start = window_start(self.now, self.settings.thresholds.window_days)
        runs_by_job: dict[int, list[JobRun]] = defaultdict(list)
        with self.engine.connect() as conn:
            history = repository.run_history_for_metrics(conn, [r.id for r in jobs], start)
        for row in history.runs:
            runs_by_job[row["data_job_id"]].append(stored_run(row))
        results = {}
        for record in jobs:
            metrics = preliminary_metrics(record.spec, runs_by_job.pop(record.id, []), region=record.region,
                                          settings=self.settings, now=self.now, created_on=record.spec.created_on,
                                          runs_total=history.counts.get(record.id, 0))
            metrics["secret_arguments"] = record.secret_argument_names
            results[record.key] = {
                "data_job_id": record.id,
                "status": metrics["status"],
                "metrics": metrics,
                "last_run_at": metrics.get("last_run_at"),
                "last_run_state": metrics.get("last_run_state"),
                "last_error": errors.get(record.key),
            }
        return results

    def _deleted_row(self, record: JobRecord) -> dict:
        return {"data_job_id": record.id, "status": "deleted", "metrics": None, "last_error": None}

    def _progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_EVERY_S:
            return
        self._last_progress = now
        elapsed = max(now - self._started, 1e-6)
        counter = self.aws.counter
        self.log.info(
            f"preliminary metrics: {self.stats.jobs_done}/{self.stats.jobs_total} jobs "
            f"({self.stats.jobs_done / elapsed:.1f} jobs/s), {counter.total_calls} API calls "
            f"({counter.total_calls / elapsed:.1f}/s), {counter.total_retries} retries, "
            f"{self.stats.runs_changed} runs stored, {self.stats.jobs_failed} jobs failed")
