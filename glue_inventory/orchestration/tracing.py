"""A span per Dagster step (and, through the `traceparent` run tag, under the span of the run that launched it):
the asset keys, the partitions, the run id and the stage; the trace id in the step's log."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import dagster as dg

from glue_inventory import telemetry

TAG_PREFIX = "glue-inventory/"
# Run tag carrying the W3C traceparent of the span that launched the run (`pipeline.materialize`).
TRACEPARENT_TAG = "glue-inventory/traceparent"


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
    return attributes


def traced(body: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an asset body in its step's span (a plain call when tracing is off)."""

    @functools.wraps(body)
    def step(context: dg.AssetExecutionContext, *args: Any, **kwargs: Any) -> Any:
        if not telemetry.configure():
            return body(context, *args, **kwargs)
        parent = telemetry.parent_context(context.run.tags.get(TRACEPARENT_TAG), context.run_id)
        try:
            with telemetry.span(f"dagster.step {context.op.name}", step_attributes(context), parent=parent):
                trace_id, span_id = telemetry.current_ids() or ("", "")
                context.log.info(f"trace_id={trace_id} span_id={span_id}")
                return body(context, *args, **kwargs)
        finally:
            telemetry.flush()

    return step
