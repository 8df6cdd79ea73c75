"""Traces of the tool itself (OpenTelemetry), opt-in by the standard variables.

With `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_TRACES_EXPORTER` (other than
`none`) set, `configure()` installs the SDK (`telemetry/sdk.py`, the `tracing` extra). Without them only this
module's `opentelemetry-api` is imported: its no-op tracer makes every span below cost a function call, and
nothing is sent. Spans are per run, step and batch (a bulk write, a pylint batch), never per job; per-call
AWS spans are sampled (`GLUE_INVENTORY_OTEL_AWS_CALL_RATIO`).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context, trace
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from glue_inventory.config import ENVIRONMENT_VARIABLES, ConfigError

TRACER_NAME = "glue_inventory"
TRACING_HINT = "pip install 'glue-inventory[tracing]'"
AWS_CALL_RATIO_VARIABLE = ENVIRONMENT_VARIABLES["otel_aws_call_ratio"]
_lock = threading.Lock()
_installed: bool | None = None


def requested(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the standard variables ask for traces."""
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none" or env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(exporter or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def configure() -> bool:
    """Install the SDK once per process when the variables ask for traces; whether traces are on."""
    global _installed
    with _lock:
        if _installed is None:
            _installed = requested()
            if _installed:
                try:
                    from glue_inventory.telemetry.sdk import install
                except ImportError as exc:
                    _installed = None
                    raise ConfigError(f"OTEL_* variables ask for traces but {exc.name} is missing — "
                                      f"{TRACING_HINT}, or unset them") from None
                install(os.environ)
        return _installed


def active() -> bool:
    """Whether this process sends traces (after `configure()`)."""
    return bool(_installed)


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


@contextmanager
def span(name: str, attributes: Mapping[str, object] | None = None,
         parent: context.Context | None = None) -> Iterator[Span]:
    """A span around the block, child of the current one (or of `parent`); a no-op without the SDK."""
    with tracer().start_as_current_span(name, context=parent, attributes=dict(attributes or {})) as current:
        yield current


def annotate(attributes: Mapping[str, object]) -> None:
    """Add attributes to the current span (e.g. the account id to an AWS call's span)."""
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attributes(dict(attributes))


def traceparent() -> str | None:
    """The current span as a W3C `traceparent` header value (to carry into a Dagster run's tags)."""
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent")


def parent_context(traceparent_value: str | None, run_id: str) -> context.Context:
    """The parent of a run's step spans: the `traceparent` the run was launched with, else one derived from
    the run id (trace id = the run id's 128 bits), so every step of a run, in any process, shares a trace."""
    if traceparent_value:
        extracted = TraceContextTextMapPropagator().extract({"traceparent": traceparent_value})
        if trace.get_current_span(extracted).get_span_context().is_valid:
            return extracted
    run = uuid.UUID(run_id)
    derived = SpanContext(trace_id=run.int, span_id=(run.int & (2**64 - 1)) or 1, is_remote=True,
                          trace_flags=TraceFlags(TraceFlags.SAMPLED))
    return trace.set_span_in_context(NonRecordingSpan(derived))


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span in hex, or None when nothing is traced."""
    current = trace.get_current_span().get_span_context()
    if not current.is_valid:
        return None
    return trace.format_trace_id(current.trace_id), trace.format_span_id(current.span_id)


def flush(timeout_ms: int = 30_000) -> None:
    """Send the spans still buffered (at the end of a step: a step's process may end without atexit)."""
    provider = trace.get_tracer_provider()
    force_flush = getattr(provider, "force_flush", None)
    if callable(force_flush):
        force_flush(timeout_ms)
