"""In-process orchestration of the whole pipeline, for `glue-inventory refresh`, the demo and the benchmarks:
the stages of the asset graph in their order (orchestration/automation/stages.py), the same the sensors run."""

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
from glue_inventory.orchestration.automation.stages import stages
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
    """Every stage of the asset graph in its order (orchestration/automation/stages.py), as the sensors run it:
    glue_jobs → preliminary metrics over every partition (batched) → the bill (with `billing:`) → candidates →
    deep analysis of `deep_jobs` jobs, split between the savings and the risk lane (savings first on an odd
    count), and the opted-in jobs → remediation plans and executive report. `log` gets one progress line per
    stage; Dagster's own lines go to `log_file` when given, else the console."""
    telemetry.configure()
    with telemetry.span("glue_inventory.pipeline", {"glue_inventory.deep_jobs": deep_jobs}):
        _run_pipeline(instance, log, deep_jobs, log_file)
    telemetry.flush()


def _run_pipeline(instance: dg.DagsterInstance, log: Callable[[str], object], deep_jobs: int,
                  log_file: Path | None) -> None:
    run = partial(materialize, instance, log_file=log_file)
    settings = load_settings()
    started = time.monotonic()

    def done(what: str) -> None:
        log(f"{what} ({time.monotonic() - started:.1f}s)")

    for stage in stages():
        keys = list(stage.keys)
        if stage.chosen_jobs_only:
            chosen = load_chosen(engine_for()) if deep_jobs else []
            for job in chosen:
                run(keys, partition_key=job.key)
            if chosen:  # the list scores the evidence just recorded, keeping the lanes that chose these jobs
                run([assets.CANDIDATES], ops=assets.RESCORE_OPS)
            counts = Counter(job.lane for job in chosen)
            done(f"deep analysis of {len(chosen)} jobs: " + ", ".join(f"{n} {lane}" for lane, n in counts.items()))
        elif stage.partitioned:
            partitions = instance.get_dynamic_partitions(glue_jobs_partitions.name)
            for start, end in partition_ranges(partitions, set(partitions)):
                run(keys, {RANGE_START: start, RANGE_END: end})
            done(f"{stage.names()}: {len(partitions)} partitions")
        elif keys == [assets.BILLED]:
            if settings.billing:
                try:
                    run(keys)
                    done(stage.names())
                except PipelineError as exc:  # the bill is an addition: the estimate carries on without it
                    log(f"glue_billed_costs failed, continuing with the estimate: {exc}")
        else:
            run(keys, ops=_run_config(keys, deep_jobs))
            jobs = (f": {len(instance.get_dynamic_partitions(glue_jobs_partitions.name))} jobs"
                    if assets.GLUE_JOBS in keys else "")
            done(stage.names() + jobs)


def _run_config(keys: list[dg.AssetKey], deep_jobs: int) -> dict | None:
    """The candidate list's lanes: `deep_jobs` split between savings and risk (the settings' when 0)."""
    if assets.CANDIDATES not in keys or not deep_jobs:
        return None
    top_k_savings, top_k_risk = split_lanes(deep_jobs)
    return {assets.CANDIDATES.to_python_identifier(): {"config": {"top_k_savings": top_k_savings,
                                                                   "top_k_risk": top_k_risk}}}
