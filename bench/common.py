"""What the benchmarks share: a simulated fleet wired to the pipeline, a throwaway inventory database,
the naive boto3 loop we compare against, the real Dagster inventory run, tables and result files."""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import platform
import resource
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import boto3
import dagster as dg
import sqlalchemy as sa
import yaml
from botocore.config import Config

from glue_inventory import DAGSTER_SPEED_ENV
from glue_inventory.aws.glue import GET_JOB_RUNS_PAGE, GET_JOBS_PAGE
from glue_inventory.orchestration.automation.runs import RANGE_END, RANGE_START, partition_ranges
from glue_inventory.orchestration.observability import run_figures
from glue_inventory.orchestration.partitions import glue_jobs_partitions
from glue_inventory.pipeline import materialize
from glue_inventory.simulate import SimAccount, build_fleet, build_organization, start_simulator
from glue_inventory.storage.db import dispose_engines, engine_for
from glue_inventory.storage.tables import job_runs

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PROGRESS_EVERY_S = 10.0
DEFAULT_POSTGRES = os.environ.get("GLUE_INVENTORY_TEST_DATABASE_URL",
                                  "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def cpu_seconds() -> float:
    """CPU time of this process so far, every thread (the in-process simulator's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def log(message: str) -> None:
    """Progress on the terminal's stderr, even while Dagster's own log is redirected to a file."""
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.__stderr__, flush=True)


@contextmanager
def dagster_log_to(path: Path) -> Iterator[None]:
    """Dagster's console log (what the runs log, their errors) goes to `path`; the terminal keeps the progress."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as stream, redirect_stderr(stream):
        yield


@dataclass(frozen=True)
class SimulatorOptions:
    """How the benchmark's simulator runs; the last three remove simulator costs AWS does not have."""

    jobs: int
    seed: int
    latency_ms: int
    rate_limit: float | None
    in_process: bool = False
    accounts: int = 0  # 0: one account; N: an AWS Organization of N member accounts
    burst: float | None = None  # the rate limit's bucket: None is one second's worth of requests

    def label(self) -> str:
        where = "in this process" if self.in_process else "in a child process"
        estate = f", an Organization of {self.accounts} accounts" if self.accounts else ""
        bucket = f" (burst {self.burst:g})" if self.burst else " (burst: one second's worth)" if self.rate_limit else ""
        return (f"{self.latency_ms} ms per call, rate limit {self.rate_limit or 'none'}/s per account and Region"
                f"{bucket}, simulator {where}{estate}")


@dataclass(frozen=True)
class FleetSummary:
    jobs: int
    runs: int
    regions: list[str]
    organization_yaml: str | None = None  # the config's organization: section, for an Organization


def bench_organization(jobs: int, accounts: int, seed: int, now: datetime):
    """`accounts` member accounts under one OU, the jobs shared evenly, every account with jobs in both Regions."""
    members = tuple(SimAccount(str(700000000000 + i), f"team-{i:02d}", "Workloads/Teams", share=1)
                    for i in range(accounts))
    return build_organization(jobs, seed, now, members=members)


class BenchSimulator:
    """`start_simulator` plus a count of the requests moto answered (the rest were throttled)."""

    def __init__(self, options: SimulatorOptions, now: datetime) -> None:
        self.fleet = (bench_organization(options.jobs, options.accounts, options.seed, now) if options.accounts
                      else build_fleet(options.jobs, options.seed, now))
        org = self.fleet.organization
        self.summary = FleetSummary(jobs=len(self.fleet.jobs), runs=sum(len(job.runs) for job in self.fleet.jobs),
                                    regions=self.fleet.regions,
                                    organization_yaml=org.config_yaml(self.fleet.regions, include="Workloads")
                                    if org else None)
        bucket = {"burst": options.burst} if options.burst else {}
        self._sim = start_simulator(self.fleet, latency_ms=options.latency_ms, rate_limit_per_s=options.rate_limit,
                                    **bucket)
        self._answered = 0
        self._lock = threading.Lock()
        self._count_answers()

    def _count_answers(self) -> None:
        moto_app = self._sim._gate.app  # the simulator's chain: CallGate (counts, latency, throttling) → moto

        def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
            with self._lock:
                self._answered += 1
            return moto_app(environ, start_response)

        self._sim._gate.app = app

    def env(self) -> dict[str, str]:
        return self._sim.env()

    @property
    def call_counts(self) -> Counter[str]:
        return Counter(self._sim.call_counts)

    @property
    def region_call_counts(self) -> Counter[str]:
        return Counter(self._sim.region_call_counts)

    @property
    def platform_call_counts(self) -> Counter[str]:
        return Counter(self._sim.platform_call_counts)

    @property
    def platform_call_spans(self) -> dict[str, tuple[float, float]]:
        return self._sim.platform_call_spans

    @property
    def answered(self) -> int:
        return self._answered

    def reset_call_counts(self) -> None:
        with self._lock:
            self._sim.reset_call_counts()
            self._answered = 0

    def stop(self) -> None:
        self._sim.stop()


class SimulatorProcess:
    """A `BenchSimulator` in a child process: moto's CPU (it serializes ~100k runs) then stays out of
    this process's GIL, as AWS's servers stay out of a real client."""

    def __init__(self, options: SimulatorOptions, now: datetime) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, options, now), name="glue-simulator",
                                        daemon=True)
        self._process.start()
        # Only the summary: the fleet's objects (a million runs at 10,000 jobs) stay in the child, out of
        # this process's peak RSS.
        self.summary: FleetSummary = self._ask("summary")
        self._env: dict[str, str] = self._ask("env")

    def _ask(self, request: str):
        self._conn.send(request)
        while not self._conn.poll(1.0):
            if not self._process.is_alive():
                raise RuntimeError(f"the simulator process exited (code {self._process.exitcode}): see its "
                                   "traceback above")
        return self._conn.recv()

    def env(self) -> dict[str, str]:
        return dict(self._env)

    @property
    def call_counts(self) -> Counter[str]:
        return self._ask("call_counts")

    @property
    def region_call_counts(self) -> Counter[str]:
        return self._ask("region_call_counts")

    @property
    def platform_call_counts(self) -> Counter[str]:
        return self._ask("platform_call_counts")

    @property
    def platform_call_spans(self) -> dict[str, tuple[float, float]]:
        return self._ask("platform_call_spans")  # time.monotonic() is the machine's clock: the same here

    @property
    def answered(self) -> int:
        return self._ask("answered")

    def reset_call_counts(self) -> None:
        self._ask("reset_call_counts")

    def stop(self) -> None:
        self._ask("stop")
        self._process.join(timeout=10)


AnySimulator = BenchSimulator | SimulatorProcess


def _serve(conn, options: SimulatorOptions, now: datetime) -> None:
    sim = BenchSimulator(options, now)
    try:
        while (request := conn.recv()) != "stop":
            answer = getattr(sim, request)
            conn.send(answer() if callable(answer) else answer)
    finally:
        sim.stop()
        conn.send(None)


@contextmanager
def simulated_fleet(options: SimulatorOptions, now: datetime | None = None) -> Iterator[AnySimulator]:
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    sim = BenchSimulator(options, now) if options.in_process else SimulatorProcess(options, now)
    try:
        log(f"simulator: {sim.summary.jobs} jobs, {sim.summary.runs} runs in {', '.join(sim.summary.regions)}, "
            f"{options.label()} (ready in {time.perf_counter() - started:.1f}s)")
        yield sim
    finally:
        sim.stop()


def add_simulator_arguments(parser: argparse.ArgumentParser, latency_ms: int, rate_limit: float | None) -> None:
    parser.add_argument("--latency-ms", type=int, default=latency_ms,
                        help=f"added latency per API call (default {latency_ms})")
    parser.add_argument("--rate-limit", type=float, default=rate_limit,
                        help="requests per second before the simulator answers ThrottlingException; 0: none "
                             f"(default {rate_limit or 'none'})")
    parser.add_argument("--burst", type=float, default=None,
                        help="requests the simulator's rate-limit bucket holds (default: one second's worth)")
    parser.add_argument("--seed", type=int, default=7, help="fleet seed (default 7)")
    parser.add_argument("--simulator-in-process", action="store_true",
                        help="run the simulator in this process (default: a child process, as AWS's servers "
                             "run outside the client); its CPU then shares the pipeline's GIL")


def simulator_options(args: argparse.Namespace, jobs: int, accounts: int = 0) -> SimulatorOptions:
    return SimulatorOptions(jobs=jobs, seed=args.seed, latency_ms=args.latency_ms, rate_limit=args.rate_limit or None,
                            in_process=args.simulator_in_process, accounts=accounts, burst=args.burst)


def add_storage_arguments(parser: argparse.ArgumentParser, several: bool = False) -> None:
    parser.add_argument("--database", nargs="+" if several else None, default=["sqlite"] if several else "sqlite",
                        help="'sqlite' (a temp file, default) or a Postgres server URL: a throwaway database "
                             f"is created on it and dropped afterwards{' (several: one run each)' if several else ''}")
    parser.add_argument("--dagster-storage", choices=DAGSTER_STORAGES, default=None,
                        help="Dagster's own storage: sqlite (a temp DAGSTER_HOME, like make demo), postgres "
                             "(a throwaway database, like the deployment) or ephemeral (in memory); default "
                             "postgres when --database is Postgres, else sqlite")
    parser.add_argument("--dagster-postgres", default=DEFAULT_POSTGRES,
                        help=f"Postgres server for --dagster-storage postgres when --database is sqlite "
                             f"(default {DEFAULT_POSTGRES})")


def resolve_storage_arguments(args: argparse.Namespace) -> None:
    if args.dagster_storage is None:
        args.dagster_storage = "sqlite" if args.database == "sqlite" else "postgres"
    if args.database != "sqlite":
        args.dagster_postgres = args.database


def fleet_runs(sim: AnySimulator) -> int:
    return sim.summary.runs


@contextmanager
def throwaway_postgres(server_url: str) -> Iterator[sa.URL]:
    """A new database on the Postgres server of `server_url`, dropped (with its connections) afterwards."""
    server = sa.make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"glue_inventory_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def throwaway_database(spec: str, workdir: Path) -> Iterator[str]:
    """A fresh inventory database: SQLite in `workdir` for "sqlite", else a throwaway Postgres database on
    the server of the URL `spec`."""
    if spec == "sqlite":
        try:
            yield f"sqlite:///{workdir / 'inventory.db'}"
        finally:
            dispose_engines()
        return
    with throwaway_postgres(spec) as url:
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            dispose_engines()


DAGSTER_STORAGES = ("sqlite", "postgres", "ephemeral")


# The instance template a deployment uses (docs/SCALING.md).
TEMPLATE = Path(__file__).resolve().parent.parent / "glue_inventory" / "serve" / "dagster.yaml"


def template_storage(postgres_url: str, pooled: bool = True) -> dict:
    """The template's `storage:` section on `postgres_url` (a psycopg2 URL); `pooled=False`: dagster-postgres's
    own storage (a connection for each read and write) with the same config."""
    custom = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))["storage"]["custom"]
    settings = custom["config"] | {"postgres_url": postgres_url}
    return {"custom": custom | {"config": settings}} if pooled else {"postgres": settings}


@contextmanager
def dagster_instance(storage: str, workdir: Path, postgres_server: str | None) -> Iterator[dg.DagsterInstance]:
    """Dagster's own instance: "sqlite" is a fresh DAGSTER_HOME (what `make demo` uses), "postgres" the
    deployment's storage (the instance template's) in a throwaway database, "ephemeral" in memory."""
    if storage == "ephemeral":
        with dg.DagsterInstance.ephemeral() as instance:
            yield instance
        return
    home = workdir / "dagster_home"
    home.mkdir(exist_ok=True)
    if storage == "sqlite":
        with dg.DagsterInstance.local_temp(str(home)) as instance:
            yield instance
        return
    if not postgres_server:
        raise ValueError("Dagster storage 'postgres' needs a Postgres server URL (--database or --dagster-postgres)")
    with throwaway_postgres(postgres_server) as url:
        # dagster-postgres speaks psycopg2 (it breaks on psycopg 3): see dagster.yaml.
        pg = url.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
        with dg.DagsterInstance.local_temp(str(home), overrides={"storage": template_storage(pg)}) as instance:
            yield instance


def pipeline_environment(sim: AnySimulator, database_url: str, workdir: Path, dagster_speed_env: bool = True,
                         pace: float | None = None) -> dict[str, str | None]:
    """What the pipeline reads: the simulator's AWS settings, one platform over every fleet region (or the
    Organization's section), each paced at `pace` requests per second when given, the inventory database
    and the reports directory."""
    config = workdir / "glue_inventory.yaml"
    if sim.summary.organization_yaml:
        text = sim.summary.organization_yaml + (f"  max_requests_per_second: {pace}\n" if pace else "")
    else:
        text = (f"platforms:\n  - name: simulated\n    regions: [{', '.join(sim.summary.regions)}]\n"
                + (f"    max_requests_per_second: {pace}\n" if pace else ""))
    config.write_text(text, encoding="utf-8")
    speed: dict[str, str | None] = (dict(DAGSTER_SPEED_ENV) if dagster_speed_env
                                    else dict.fromkeys(DAGSTER_SPEED_ENV))
    return {**sim.env(), "AWS_PROFILE": None, "GLUE_INVENTORY_CONFIG": str(config),
            "GLUE_INVENTORY_DATABASE_URL": database_url,
            "GLUE_INVENTORY_REPORTS_DIR": str(workdir / "reports"), **speed}


@dataclass
class NaiveResult:
    jobs: int = 0
    runs: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0


def naive_pass(sim: AnySimulator) -> dict:
    """The naive loop over the simulator's fleet, with the simulator's call counts: the figures of the baseline."""
    log("naive loop: starting (one call after another: minutes)")
    sim.reset_call_counts()
    naive = naive_inventory(sim.summary.regions)
    calls = Counter(sim.call_counts)
    total = sum(calls.values())
    log(f"naive loop: {naive.seconds:.1f}s, {total} calls")
    return {"seconds": round(naive.seconds, 2), "cpu_seconds": round(naive.cpu_seconds, 2), "jobs": naive.jobs,
            "runs_fetched": naive.runs, "calls": total, "throttled_answers": total - sim.answered,
            "calls_by_operation": dict(calls), "calls_per_job": round(total / max(1, naive.jobs), 4),
            "get_job_runs_per_job": round(calls["GetJobRuns"] / max(1, naive.jobs), 4),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def naive_inventory(regions: list[str]) -> NaiveResult:
    """The loop a script would write: per region, page GetJobs; per job, GetJob and every GetJobRuns page,
    one call after another, with the same (largest) page sizes the pipeline uses."""
    result = NaiveResult()
    started = last = time.perf_counter()
    cpu = cpu_seconds()
    config = Config(retries={"mode": "standard", "max_attempts": 10})
    for region in regions:
        glue = boto3.client("glue", region_name=region, config=config)
        names: list[str] = []
        for page in glue.get_paginator("get_jobs").paginate(PaginationConfig={"PageSize": GET_JOBS_PAGE}):
            names += [job["Name"] for job in page["Jobs"]]
        for name in names:
            glue.get_job(JobName=name)
            pages = glue.get_paginator("get_job_runs").paginate(
                JobName=name, PaginationConfig={"PageSize": GET_JOB_RUNS_PAGE})
            result.runs += sum(len(page["JobRuns"]) for page in pages)
            result.jobs += 1
            if time.perf_counter() - last >= PROGRESS_EVERY_S:
                last = time.perf_counter()
                log(f"naive loop: {result.jobs} jobs, {result.runs} runs, {last - started:.0f}s")
    result.seconds = time.perf_counter() - started
    result.cpu_seconds = cpu_seconds() - cpu
    return result


@dataclass
class InventoryRun:
    """One pass of the real pipeline: glue_jobs → job_preliminary_metrics (range runs) → candidates."""

    seconds: dict[str, float] = field(default_factory=dict)
    range_runs: list[dict] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    region_calls: Counter[str] = field(default_factory=Counter)
    platform_calls: Counter[str] = field(default_factory=Counter)  # by "<account>/<Region>"
    # The run-history phase alone (job_preliminary_metrics): its calls by platform, as above.
    history_platform_calls: Counter[str] = field(default_factory=Counter)
    # (first, last) arrival of a call at the simulator, by platform, over the whole pass
    platform_spans: dict[str, tuple[float, float]] = field(default_factory=dict)
    throttled_answers: int = 0
    jobs: int = 0
    cpu_seconds: float = 0.0

    @property
    def inventory_seconds(self) -> float:
        return sum(self.seconds.values())

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


def latest_metadata(instance: dg.DagsterInstance, asset: str) -> dict:
    """The figures of the asset's newest run: its run-figures observation where it records one (a range run of
    job_preliminary_metrics), else the metadata of its newest materialization."""
    figures = run_figures(instance, dg.AssetKey(asset))
    if figures:
        return figures
    records = instance.fetch_materializations(dg.AssetKey(asset), limit=1).records
    if not records:
        return {}
    return {key: value.value for key, value in records[0].asset_materialization.metadata.items()}


def run_inventory(instance: dg.DagsterInstance, sim: AnySimulator,
                  on_range: Callable[[int, int], None] | None = None) -> InventoryRun:
    """The inventory as `demo.run_pipeline` runs it (same ranges), each step timed, calls counted by the
    simulator."""
    sim.reset_call_counts()
    run = InventoryRun()
    cpu = cpu_seconds()
    started = time.perf_counter()
    materialize(instance, ["glue_jobs"])
    run.seconds["glue_jobs"] = time.perf_counter() - started
    keys = instance.get_dynamic_partitions(glue_jobs_partitions.name)
    run.jobs = len(keys)
    ranges = partition_ranges(keys, set(keys))
    listing_calls = Counter(sim.platform_call_counts)
    phase = time.perf_counter()
    for index, (first, last) in enumerate(ranges):
        calls_before = sum(sim.call_counts.values())
        began = time.perf_counter()
        materialize(instance, ["job_preliminary_metrics"], {RANGE_START: first, RANGE_END: last})
        meta = latest_metadata(instance, "job_preliminary_metrics")
        run.range_runs.append({"partitions": keys.index(last) - keys.index(first) + 1,
                               "seconds": round(time.perf_counter() - began, 3),
                               "server_calls": sum(sim.call_counts.values()) - calls_before,
                               "client_calls": meta.get("api_calls"),
                               "runs_fetched": meta.get("runs_fetched"),
                               "throttling_retries": meta.get("throttling_retries")})
        if on_range:
            on_range(index + 1, len(ranges))
    run.seconds["job_preliminary_metrics"] = time.perf_counter() - phase
    run.history_platform_calls = Counter(sim.platform_call_counts) - listing_calls
    phase = time.perf_counter()
    materialize(instance, ["deep_analysis_candidates"])
    run.seconds["deep_analysis_candidates"] = time.perf_counter() - phase
    run.calls = Counter(sim.call_counts)
    run.region_calls = Counter(sim.region_call_counts)
    run.platform_calls = Counter(sim.platform_call_counts)
    run.platform_spans = sim.platform_call_spans
    run.throttled_answers = run.total_calls - sim.answered
    run.cpu_seconds = cpu_seconds() - cpu
    return run


def direct_preliminary(keys: list[str]) -> float:
    """Seconds to do `job_preliminary_metrics`' work over the same ranges without Dagster: the same
    runner, fresh AWS resources per range as a run has, and the same table writes as its IO manager."""
    from glue_inventory.orchestration.resources import AwsPlatforms, GlueInventoryConfig
    from glue_inventory.services.preliminary import PreliminaryRunner
    from glue_inventory.services.runtime import young_collections_every
    from glue_inventory.storage.jobs import write_preliminary

    started = time.perf_counter()
    engine = engine_for()
    for first, last in partition_ranges(keys, set(keys)):
        config = GlueInventoryConfig()
        aws = AwsPlatforms(config=config)
        runner = PreliminaryRunner(sessions=aws.session_map(), counter=aws.counter, settings=config.settings,
                                   engine=engine, log=logging.getLogger("bench"))
        with young_collections_every():  # as the asset step runs it (orchestration/observability.observed)
            rows = runner.run(keys[keys.index(first):keys.index(last) + 1])
        write_preliminary(engine, rows.values(), "bench-without-dagster", datetime.now(UTC))
    return time.perf_counter() - started


def stored_runs(database_url: str) -> int:
    with engine_for(database_url).connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(job_runs)).scalar_one()


def print_table(title: str, headers: list[str], rows: list[list[object]]) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print(f"\n{title}")
    for line in [headers, ["-" * w for w in widths], *cells]:
        padded = (c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
        print("  ".join(padded))


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 2) if denominator else None


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "load_avg_1m": os.getloadavg()[0],
            "platform": platform.platform()}


def results_path(name: str) -> Path:
    """bench/results/<name>-<timestamp>.json (git-ignored); Dagster's log goes next to it."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    return RESULTS_DIR / f"{name}-{datetime.now().strftime('%Y%m%dT%H%M%S')}.json"


def write_results(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
