"""In-process orchestration of the whole pipeline, for `glue-inventory refresh`, the demo and the benchmarks:
glue_jobs → preliminary metrics of every job (batched) → the bill (when `billing:` is set) → candidates →
deep analysis → executive report."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dagster as dg

from glue_inventory import telemetry
from glue_inventory.config import load_settings
from glue_inventory.orchestration import assets
from glue_inventory.orchestration.automation.runs import RANGE_END, RANGE_START, partition_ranges
from glue_inventory.orchestration.observability import TRACEPARENT_TAG
from glue_inventory.orchestration.partitions import glue_jobs_partitions
from glue_inventory.storage.candidates import top_candidate_keys
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


def materialize(instance: dg.DagsterInstance, keys: list[dg.AssetKey | str], tags: dict[str, str] | None = None,
                partition_key: str | None = None) -> None:
    """One in-process run of the assets `keys`; raises PipelineError when it fails."""
    from glue_inventory.definitions import defs

    selection = [dg.AssetKey(key) if isinstance(key, str) else key for key in keys]
    names = ", ".join(key.to_user_string() for key in selection)
    job = defs.resolve_implicit_global_asset_job_def()
    telemetry.configure()
    with telemetry.span(f"dagster.run {names}", {"dagster.asset_keys": names}) as span:
        traceparent = telemetry.traceparent()
        run_tags = {**(tags or {}), **({TRACEPARENT_TAG: traceparent} if traceparent else {})}
        result = job.execute_in_process(instance=instance, asset_selection=selection,
                                        tags=run_tags, partition_key=partition_key, raise_on_error=False,
                                        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}})
        span.set_attribute("dagster.run_id", result.run_id)
        span.set_attribute("dagster.run.success", result.success)
    if not result.success:
        raise PipelineError(f"materializing {names} failed: see the run's logs in {instance.root_directory}")


def run_pipeline(instance: dg.DagsterInstance, log: Callable[[str], object] = print, deep_jobs: int = 0) -> None:
    """glue_jobs → preliminary metrics over every partition (batched) → the bill (with `billing:`) →
    candidates → deep analysis of the top `deep_jobs` candidates → remediation plans and executive report."""
    telemetry.configure()
    with telemetry.span("glue_inventory.pipeline", {"glue_inventory.deep_jobs": deep_jobs}):
        _run_pipeline(instance, log, deep_jobs)
    telemetry.flush()


def _run_pipeline(instance: dg.DagsterInstance, log: Callable[[str], object], deep_jobs: int) -> None:
    started = time.monotonic()
    materialize(instance, [assets.GLUE_JOBS])
    keys = instance.get_dynamic_partitions(glue_jobs_partitions.name)
    log(f"glue_jobs: {len(keys)} jobs ({time.monotonic() - started:.1f}s)")
    for start, end in partition_ranges(keys, set(keys)):
        materialize(instance, [assets.PRELIMINARY], {RANGE_START: start, RANGE_END: end})
    log(f"job_preliminary_metrics: {len(keys)} partitions ({time.monotonic() - started:.1f}s)")
    if load_settings().billing:
        try:
            materialize(instance, [assets.BILLED])
            log(f"glue_billed_costs ({time.monotonic() - started:.1f}s)")
        except PipelineError as exc:  # the bill is an addition: the estimate carries on without it
            log(f"glue_billed_costs failed, continuing with the estimate: {exc}")
    materialize(instance, [assets.CANDIDATES])
    log(f"deep_analysis_candidates ({time.monotonic() - started:.1f}s)")
    chosen = top_candidate_keys(engine_for(), deep_jobs)
    for key in chosen:
        materialize(instance, assets.DEEP_ASSET_KEYS, partition_key=key)
    log(f"deep analysis of the top {len(chosen)} candidates ({time.monotonic() - started:.1f}s)")
    materialize(instance, [assets.REMEDIATION, assets.REPORT])
    log(f"remediation_plans, executive_report ({time.monotonic() - started:.1f}s)")
