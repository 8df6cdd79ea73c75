"""In-process orchestration of the whole pipeline, for `glue-inventory refresh`, the demo and the benchmarks:
glue_jobs → preliminary metrics of every job (batched) → the bill (when `billing:` is set) → candidates →
deep analysis → executive report."""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import partial
from pathlib import Path

import dagster as dg

from glue_inventory import telemetry
from glue_inventory.config import load_settings, split_lanes
from glue_inventory.orchestration import assets
from glue_inventory.orchestration.automation.runs import RANGE_END, RANGE_START, partition_ranges
from glue_inventory.orchestration.observability import TRACEPARENT_TAG
from glue_inventory.orchestration.partitions import glue_jobs_partitions
from glue_inventory.services.deep_selection import load_chosen
from glue_inventory.storage.db import engine_for


class PipelineError(RuntimeError):
    """A step of the pipeline failed; the message names it and where its logs are."""


def _set(values: dict[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@contextmanager
def environment(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or, for None, unset) environment variables for the block; restore them afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        _set(values)
        yield
    finally:
        _set(saved)


# The console logger's layout, so a log file reads like the terminal output it replaces.
LOG_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
CONSOLE_LOGGERS = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


@contextmanager
def file_loggers(log_file: Path) -> Iterator[dict[str, dg.LoggerDefinition]]:
    """Dagster's log lines of one run (INFO and up) appended to `log_file` instead of the console."""
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt=LOG_DATE_FORMAT))
    logger = logging.Logger("dagster", logging.INFO)
    logger.addHandler(handler)
    try:
        yield {"file": dg.LoggerDefinition(lambda _context: logger, description=f"appends to {log_file}")}
    finally:
        handler.close()


def step_errors(result: dg.ExecuteInProcessResult) -> list[str]:
    """`<step>: <error>` for each failed step: the user's exception, not Dagster's wrapper around it."""
    errors = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        if error is None:
            errors.append(f"{event.step_key}: failed")
            continue
        if error.cls_name == "DagsterExecutionStepExecutionError" and error.cause is not None:
            error = error.cause
        errors.append(f"{event.step_key}: {error.message.strip()}")
    return errors


def materialize(instance: dg.DagsterInstance, keys: list[dg.AssetKey | str], tags: dict[str, str] | None = None,
                partition_key: str | None = None, log_file: Path | None = None, ops: dict | None = None) -> None:
    """One in-process run of the assets `keys` (`ops`: their run config), its log lines on the console or
    appended to `log_file`; raises PipelineError naming the failed step, its error and where the logs are."""
    from glue_inventory.definitions import defs

    selection = [dg.AssetKey(key) if isinstance(key, str) else key for key in keys]
    names = ", ".join(key.to_user_string() for key in selection)
    job = defs.resolve_implicit_global_asset_job_def()
    telemetry.configure()
    with file_loggers(log_file) if log_file else nullcontext() as loggers, \
            telemetry.span(f"dagster.run {names}", {"dagster.asset_keys": names}) as span:
        if loggers:
            job = job.with_logger_defs(loggers)
        traceparent = telemetry.traceparent()
        run_tags = {**(tags or {}), **({TRACEPARENT_TAG: traceparent} if traceparent else {})}
        result = job.execute_in_process(instance=instance, asset_selection=selection, tags=run_tags,
                                        partition_key=partition_key, raise_on_error=False,
                                        run_config=({"loggers": dict.fromkeys(loggers, {})} if loggers
                                                    else CONSOLE_LOGGERS) | ({"ops": ops} if ops else {}))
        span.set_attribute("dagster.run_id", result.run_id)
        span.set_attribute("dagster.run.success", result.success)
    if not result.success:
        errors = "; ".join(step_errors(result)) or "the run failed before its steps"
        logs = f"Dagster's log: {log_file}; " if log_file else ""
        raise PipelineError(f"materializing {names} failed: {errors} — {logs}the run's events ({result.run_id}) "
                            f"are in {instance.root_directory}")


def run_pipeline(instance: dg.DagsterInstance, log: Callable[[str], object] = print, deep_jobs: int = 0,
                 log_file: Path | None = None) -> None:
    """glue_jobs → preliminary metrics over every partition (batched) → the bill (with `billing:`) →
    candidates → deep analysis of `deep_jobs` jobs, split between the savings and the risk lane (savings first on
    an odd count), and the opted-in jobs → remediation plans and executive report. `log` gets one progress line
    per stage; Dagster's own lines go to `log_file` when given, else the console."""
    telemetry.configure()
    with telemetry.span("glue_inventory.pipeline", {"glue_inventory.deep_jobs": deep_jobs}):
        _run_pipeline(instance, log, deep_jobs, log_file)
    telemetry.flush()


def _deep_analyse(run: Callable, deep_jobs: int) -> list:
    """The deep analysis of every job the lanes chose, then the candidate list downstream of it, which scores
    their evidence and keeps the lanes that chose them. The jobs analysed."""
    chosen = load_chosen(engine_for()) if deep_jobs else []
    for job in chosen:
        run(assets.DEEP_ASSET_KEYS, partition_key=job.key)
    if chosen:
        run([assets.CANDIDATES], ops={assets.CANDIDATES.to_python_identifier(): {"config": {"keep_lanes": True}}})
    return chosen


def _run_pipeline(instance: dg.DagsterInstance, log: Callable[[str], object], deep_jobs: int,
                  log_file: Path | None) -> None:
    run = partial(materialize, instance, log_file=log_file)
    started = time.monotonic()
    run([assets.GLUE_JOBS])
    keys = instance.get_dynamic_partitions(glue_jobs_partitions.name)
    log(f"glue_jobs: {len(keys)} jobs ({time.monotonic() - started:.1f}s)")
    for start, end in partition_ranges(keys, set(keys)):
        run([assets.PRELIMINARY], {RANGE_START: start, RANGE_END: end})
    log(f"job_preliminary_metrics: {len(keys)} partitions ({time.monotonic() - started:.1f}s)")
    if load_settings().billing:
        try:
            run([assets.BILLED])
            log(f"glue_billed_costs ({time.monotonic() - started:.1f}s)")
        except PipelineError as exc:  # the bill is an addition: the estimate carries on without it
            log(f"glue_billed_costs failed, continuing with the estimate: {exc}")
    top_k_savings, top_k_risk = split_lanes(deep_jobs)
    lanes = {"top_k_savings": top_k_savings, "top_k_risk": top_k_risk} if deep_jobs else {}
    run([assets.CANDIDATES], ops={assets.CANDIDATES.to_python_identifier(): {"config": lanes}})
    log(f"deep_analysis_candidates ({time.monotonic() - started:.1f}s)")
    analysed = _deep_analyse(run, deep_jobs)
    counts = Counter(job.lane for job in analysed)
    log(f"deep analysis of {len(analysed)} jobs: " + ", ".join(f"{n} {lane}" for lane, n in counts.items())
        + f" ({time.monotonic() - started:.1f}s)")
    run([assets.REMEDIATION, assets.REPORT])
    log(f"remediation_plans, executive_report ({time.monotonic() - started:.1f}s)")
