"""What each step says about itself: its span (under the span of the run that launched it, through the
`traceparent` run tag) with the asset keys, partitions, run id and our run tags, the trace id in its log, and the
AWS calls it made (an observation, summed per inventory into the report's `tool_cost`)."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

# The iterator Dagster's schedules tick on (no public API exposes it; dagster is pinned in pyproject.toml).
from dagster._utils.schedules import cron_string_iterator

from glue_inventory import telemetry
from glue_inventory.config import ScheduleSettings
from glue_inventory.services.runtime import young_collections_every

TAG_PREFIX = "glue-inventory/"
# Run tag carrying the W3C traceparent of the span that launched the run (`pipeline.materialize`).
TRACEPARENT_TAG = "glue-inventory/traceparent"
# Metadata key of a step's observation: its AWS calls by `service:Operation` (aws.clients.CallCounter.usage).
AWS_CALLS = "aws_calls"
# Metadata key that marks the observation holding a run's figures (calls, throttles, learned rates) of an asset
# whose materialization metadata Dagster would otherwise copy onto every partition of the run.
RUN_FIGURES = "run_figures"
INVENTORY_START = dg.AssetKey("glue_jobs")
# Enough for a day of runs: 10,000 jobs are two preliminary runs, deep analysis 50 jobs a run.
OBSERVATIONS_PER_ASSET = 1000


def step_attributes(context: dg.AssetExecutionContext) -> dict[str, Any]:
    """What a step span says about its step: never a job's data, only keys, counts and ids."""
    run = context.run
    attributes: dict[str, Any] = {
        "dagster.run_id": context.run_id,
        "dagster.job": run.job_name,
        "dagster.step": context.op.name,
        "dagster.asset_keys": [key.to_user_string() for key in sorted(context.selected_asset_keys)],
    }
    # Our own run tags (the stage, the trigger): `glue-inventory/stage` becomes `glue_inventory.stage`.
    for tag, value in run.tags.items():
        if tag.startswith(TAG_PREFIX) and tag != TRACEPARENT_TAG:
            attributes["glue_inventory." + tag.removeprefix(TAG_PREFIX)] = value
    if context.has_partition_key_range:
        key_range = context.partition_key_range
        attributes["dagster.partition.count"] = len(context.partition_keys)
        attributes["dagster.partition.range_start"] = key_range.start
        attributes["dagster.partition.range_end"] = key_range.end
    elif context.has_partition_key:
        attributes["dagster.partition.count"] = 1
        attributes["dagster.partition.key"] = context.partition_key
    return attributes


def _record_calls(context: dg.AssetExecutionContext, calls: Counter[str]) -> None:
    context.log_event(dg.AssetObservation(asset_key=sorted(context.selected_asset_keys)[0],
                                          metadata={AWS_CALLS: dg.MetadataValue.json(dict(sorted(calls.items())))}))


def _traced_call(context: dg.AssetExecutionContext, body: Callable[[], Any]) -> Any:
    if not telemetry.configure():
        return body()
    parent = telemetry.parent_context(context.run.tags.get(TRACEPARENT_TAG), context.run_id)
    try:
        with telemetry.span(f"dagster.step {context.op.name}", step_attributes(context), parent=parent):
            trace_id, span_id = telemetry.current_ids() or ("", "")
            context.log.info(f"trace_id={trace_id} span_id={span_id}")
            return body()
    finally:
        telemetry.flush()


def observed(body: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an asset body: its span (a plain call when tracing is off) and, for a step with the `aws` resource,
    the AWS calls it made."""

    @functools.wraps(body)
    def step(context: dg.AssetExecutionContext, *args: Any, **kwargs: Any) -> Any:
        aws = kwargs.get("aws")
        before = aws.counter.usage() if aws is not None else None
        with young_collections_every():
            result = _traced_call(context, lambda: body(context, *args, **kwargs))
        if aws is not None:
            _record_calls(context, aws.counter.usage() - before)
        return result

    return step


def run_figures(instance: dg.DagsterInstance, asset_key: dg.AssetKey, runs: int = 10) -> dict[str, Any]:
    """The figures of the asset's latest run that recorded them (its RUN_FIGURES observation), as plain values."""
    for record in instance.fetch_observations(asset_key, limit=runs).records:
        metadata = record.asset_observation.metadata if record.asset_observation else {}
        if RUN_FIGURES in metadata:
            return {key: value.value for key, value in metadata.items() if key != RUN_FIGURES}
    return {}


def inventory_calls(instance: dg.DagsterInstance, exclude: dg.AssetKey) -> Counter[str]:
    """The AWS calls of the latest inventory: every step's since the latest `glue_jobs` step (included), but
    those of the asset `exclude` (the report, which counts its own)."""
    latest = instance.fetch_observations(INVENTORY_START, limit=1).records
    if not latest:
        return Counter()
    since = latest[0].timestamp - 1e-3
    total: Counter[str] = Counter()
    for key in instance.all_asset_keys():
        if key == exclude:
            continue
        records = instance.fetch_observations(dg.AssetRecordsFilter(asset_key=key, after_timestamp=since),
                                              limit=OBSERVATIONS_PER_ASSET).records
        for record in records:
            calls = record.asset_observation.metadata.get(AWS_CALLS) if record.asset_observation else None
            if calls is not None:
                total.update({name: int(count) for name, count in calls.value.items()})
    return total


def cur_bytes_scanned(instance: dg.DagsterInstance) -> int:
    """Bytes of the Cost and Usage Report read by the latest inventory's `glue_billed_costs` (0 without one)."""
    latest = instance.fetch_observations(INVENTORY_START, limit=1).records
    bill = instance.fetch_materializations(dg.AssetKey("glue_billed_costs"), limit=1).records
    if not latest or not bill or bill[0].timestamp < latest[0].timestamp:
        return 0
    value = bill[0].asset_materialization.metadata.get("bytes")
    return int(value.value) if value is not None else 0


def inventories_per_month(schedules: ScheduleSettings, now: datetime | None = None) -> int:
    """How many refreshes `schedules.refresh_cron` starts in 30 days."""
    start = now or datetime.now(UTC)
    end = start + timedelta(days=30)
    count = 0
    for tick in cron_string_iterator(start.timestamp(), schedules.refresh_cron, schedules.timezone):
        if tick >= end:
            break
        count += 1
    return count
