"""The work behind `job_preliminary_metrics`: fetch new runs per job, store them, compute metrics.

Runs are written in batches as fetches finish (one transaction per batch, each job's runs together
with the flag that says its stored history is complete), so memory stays flat however long the
histories are. Metrics read back only what they need: the window's runs and each job's latest; a history
fetched whole (a first inventory's: nothing of it stored before) is not read back at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from queue import SimpleQueue

from botocore.exceptions import BotoCoreError, ClientError

from glue_inventory.analysis.code.secrets import redact_text
from glue_inventory.analysis.cost.dpu_estimate import run_dpu_hours_and_cost
from glue_inventory.analysis.metrics import preliminary_metrics
from glue_inventory.analysis.status import window_start
from glue_inventory.analysis.types import JobRun, JobSpec
from glue_inventory.aws.clients import CallCounter
from glue_inventory.aws.errors import THROTTLING, describe_error, error_code
from glue_inventory.aws.glue import fetch_new_runs
from glue_inventory.aws.pacing import prompt_threads
from glue_inventory.aws.parse import parse_job_run
from glue_inventory.aws.sessions import PlatformUnreachable, SessionMap
from glue_inventory.config import PROGRESS_EVERY_S, Settings
from glue_inventory.keys import decode_partition_key, spread_over_platforms
from glue_inventory.storage import repository
from glue_inventory.storage.jobs import mark_history_complete, read_jobs

# Jobs whose stored runs are read together, and the most stored per transaction: bounds memory.
CHUNK = 250
# The first read is of this many jobs only: a refresh's first calls go out once their stored runs are read, not
# after a whole chunk's (tens of thousands of runs); the pool is fed from the next chunk while it fetches them.
FIRST_CHUNK = 16
# Runs stored per transaction (more when one job's fetch alone is larger).
WRITE_ROWS = 5000
# Fetches queued per thread, so the pool keeps busy while the calling thread writes.
IN_FLIGHT_PER_WORKER = 16
# A batch is stored once it is this old, however small: behind a rate limit the calling thread waits between
# fetches anyway, and what is left to store (and compute metrics for) after the last call is at most this long's
# fetches, not a chunk's.
STORE_EVERY_S = 1.0


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
    # The job's whole history as fetched, when nothing of it was stored before: its metrics are computed from
    # these, not read back after they are stored.
    history: list[JobRun] | None = None


@dataclass
class RefreshStats:
    jobs_total: int = 0
    jobs_done: int = 0
    jobs_failed: int = 0
    runs_changed: int = 0
    pages: int = 0


def job_record(job: dict) -> JobRecord:
    """A stored job (`storage.jobs.read_jobs`) as the preliminary refresh and the deep analysis use it."""
    spec = JobSpec(
        name=job["name"], job_type=job["job_type"], worker_type=job["worker_type"],
        number_of_workers=job["number_of_workers"], max_capacity=job["max_capacity"],
        glue_version=job["glue_version"], execution_class=job["execution_class"],
        script_location=job["script_location"], created_on=job["created_on"],
        default_arguments=dict.fromkeys(job["default_argument_names"] or [], ""),
        tags=job["tags"] or {},
    )
    return JobRecord(key=job["partition_key"], id=job["data_job_id"], region=job["region"],
                     account_id=job["account_id"], spec=spec, status=job["status"],
                     history_complete=bool(job["runs_history_complete"]),
                     secret_argument_names=list(job["secret_argument_names"] or []))


def load_job_records(bind: repository.Bind, keys: list[str]) -> dict[str, JobRecord]:
    return {key: job_record(job) for key, job in read_jobs(bind, keys).items()}


@lru_cache(maxsize=4096)
def _redacted_error(message: str) -> str:
    """A run's ErrorMessage redacted once per distinct text: a failing job repeats the same one run after run."""
    return redact_text(message)


def run_row(record: JobRecord, run: JobRun, settings: Settings, fetched_at: datetime) -> dict:
    dpu_hours, cost = run_dpu_hours_and_cost(run, record.spec, record.region, settings.pricing)
    return {
        "data_job_id": record.id, "run_id": run.run_id, "attempt": run.attempt, "state": run.state,
        "started_on": run.started_on, "completed_on": run.completed_on,
        "execution_time_s": run.execution_time_s, "dpu_seconds": run.dpu_seconds,
        "dpu_hours": dpu_hours, "estimated_cost_usd": cost,
        "worker_type": run.worker_type, "number_of_workers": run.number_of_workers,
        "max_capacity": run.max_capacity, "glue_version": run.glue_version,
        "execution_class": run.execution_class,
        "error_message": _redacted_error(run.error_message) if run.error_message else None,
        "fetched_at": fetched_at,
    }


class PreliminaryRunner:
    """Fetches new runs of many jobs on a bounded thread pool and writes them from the calling thread.

    Fetching threads never wait for the database: finished fetches are stored in batches (one
    transaction of up to `WRITE_ROWS` runs, each job's history flag with its runs), and the metrics of
    a batch are computed as soon as it is stored, while the pool keeps fetching.
    """

    def __init__(self, *, sessions: SessionMap, counter: CallCounter, settings: Settings, engine: repository.Bind,
                 log, now: datetime | None = None):
        self.sessions = sessions
        self.counter = counter
        self.settings = settings
        self.engine = engine
        self.log = log
        self.now = now or datetime.now(UTC)
        self.stats = RefreshStats()
        self._lock = threading.Lock()
        self._last_progress = 0.0
        self._started = 0.0

    def run(self, keys: list[str]) -> dict[str, dict]:
        self._started = time.monotonic()
        for key in keys:
            decode_partition_key(key)  # a malformed key fails here, before any call, with a clear message
        # The jobs are read from the database a chunk at a time, as the fetches need them: the first
        # call goes out at once, not after every job of a large run has been read.
        order = spread_over_platforms(sorted(set(keys)))
        self.stats.jobs_total = len(order)
        results = self._refresh(order)
        self._progress(force=True)
        return results

    def _refresh(self, order: list[str]) -> dict[str, dict]:
        results: dict[str, dict] = {}
        throttled: list[Fetched] = []
        batch: list[Fetched] = []
        todo = self._with_stored_runs(order, results)
        workers = self.settings.max_workers
        pool = ThreadPoolExecutor(max_workers=workers)
        # Finished fetches arrive on a queue: `concurrent.futures.wait` over the hundreds in flight registers a
        # waiter on each of them for every one that finishes (7 % of an Organization's client CPU, sampled).
        finished: SimpleQueue[Future[Fetched]] = SimpleQueue()
        in_flight = 0

        def submit_more() -> None:
            nonlocal in_flight
            for record, known in islice(todo, IN_FLIGHT_PER_WORKER * workers - in_flight):
                pool.submit(self._fetch, record, known).add_done_callback(finished.put)
                in_flight += 1

        with prompt_threads():  # requests leave on their slots while other threads parse pages
            try:
                submit_more()
                batch_since, batch_rows = time.monotonic(), 0
                while in_flight:
                    done = [finished.get()]
                    while not finished.empty():
                        done.append(finished.get())
                    in_flight -= len(done)
                    submit_more()
                    for future in done:
                        fetched = future.result()
                        if fetched.throttled:
                            throttled.append(fetched)
                        else:
                            batch.append(fetched)
                            batch_rows += len(fetched.rows)
                    if batch and (not in_flight or len(batch) >= CHUNK or batch_rows >= WRITE_ROWS
                                  or time.monotonic() - batch_since >= STORE_EVERY_S):
                        results.update(self._store(batch))
                        batch, batch_rows = [], 0
                        batch_since = time.monotonic()
                    self._progress()
            finally:
                # On an error (the database went away) the queued fetches are dropped, not waited for.
                pool.shutdown(wait=True, cancel_futures=True)
        # A job throttled past botocore's retries gets one more, unhurried try: a throttling storm
        # slows the refresh down but does not fail jobs.
        retried = [self._fetch(f.record, f.known, last_try=True) for f in throttled]
        results.update(self._store(batch + retried))
        return results

    def _with_stored_runs(self, order: list[str],
                          results: dict[str, dict]) -> Iterator[tuple[JobRecord, dict[str, str]]]:
        """Each live job with the states of its stored runs, read from the database CHUNK jobs at a time (the
        first FIRST_CHUNK). A job not in the inventory, or deleted, gets its row in `results` instead."""
        start = 0
        while start < len(order):
            chunk = order[start:start + (FIRST_CHUNK if start == 0 else CHUNK)]
            start += len(chunk)
            records = load_job_records(self.engine, chunk)
            live = []
            for key in chunk:
                record = records.get(key)
                if record is None:
                    results[key] = {"status": None, "metrics": None,
                                    "last_error": "job not in the inventory: materialize glue_jobs first"}
                elif record.status == "deleted":
                    results[key] = self._deleted_row(record)
                else:
                    live.append(record)
            with self._lock:
                self.stats.jobs_done += len(chunk) - len(live)
            known = repository.run_states_bulk(self.engine, [r.id for r in live])
            for record in live:
                yield record, known.pop(record.id, {})

    def _fetch(self, record: JobRecord, known: dict[str, str], last_try: bool = False) -> Fetched:
        """New and changed runs of one job as `job_runs` rows; an error is recorded, never raised."""
        fetched = Fetched(record, known)
        try:
            session = self.sessions.session(record.account_id, record.region)
            fetch = fetch_new_runs(session.glue, record.spec.name, known, record.history_complete)
            fetched_at = datetime.now(UTC)
            runs = [parse_job_run(raw) for raw in fetch.changed]
            fetched.rows = [run_row(record, run, self.settings, fetched_at) for run in runs]
            fetched.pages = fetch.pages
            if not known:  # every run of the job is new, so what was fetched is what will be stored
                fetched.history = runs
        except PlatformUnreachable as exc:
            fetched.error = redact_text(str(exc))
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
        with repository.transaction(self.engine) as conn:
            repository.upsert_runs(conn, (row for f in batch for row in f.rows))
            mark_history_complete(conn, completed)
        with self._lock:
            self.stats.pages += sum(f.pages for f in batch)
            self.stats.runs_changed += sum(len(f.rows) for f in batch)
        return self._metrics([f.record for f in batch], {f.record.key: f.error for f in batch if f.error},
                             {f.record.id: f.history for f in batch if f.history is not None})

    def _metrics(self, jobs: list[JobRecord], errors: dict[str, str],
                 fetched: dict[int, list[JobRun]]) -> dict[str, dict]:
        """Metrics from each job's history: the runs of the window and its latest, plus a count. A history fetched
        whole (`fetched`, a first inventory's) is used as fetched, the others are read back from the database."""
        start = window_start(self.now, self.settings.thresholds.window_days)
        history = repository.run_history_for_metrics(self.engine, [r.id for r in jobs if r.id not in fetched], start)
        for job_id, runs in fetched.items():
            # As stored: one run per id, the last fetched (`upsert_runs` keeps it).
            unique = list({run.run_id: run for run in runs}.values())
            history.runs[job_id], history.counts[job_id] = unique, len(unique)
        results = {}
        for record in jobs:
            metrics = preliminary_metrics(record.spec, history.runs.pop(record.id, []), region=record.region,
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
        counter = self.counter
        self.log.info(
            f"preliminary metrics: {self.stats.jobs_done}/{self.stats.jobs_total} jobs "
            f"({self.stats.jobs_done / elapsed:.1f} jobs/s), {counter.total_calls} API calls "
            f"({counter.total_calls / elapsed:.1f}/s), {counter.total_retries} retries, "
            f"{self.stats.runs_changed} runs stored, {self.stats.jobs_failed} jobs failed")
