"""The OpenTelemetry SDK behind `telemetry.configure()`: imported only when the OTEL_* variables ask for traces.

Exporters by `OTEL_TRACES_EXPORTER`: `otlp` (the default; OTLP over HTTP/protobuf, configured by the standard
`OTEL_EXPORTER_OTLP_*` variables, so an ADOT or OpenTelemetry Collector, or X-Ray's own OTLP endpoint through
a SigV4 proxy) and `console`. AWS calls get botocore's spans (service, operation, Region, request id, retries),
and our account id; a pool's threads carry their caller's span (threading instrumentation).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.instrumentation.threading import ThreadingInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes

from glue_inventory.config import ConfigError, read_environment

# One GetJobRuns call per job and a few more per platform: at 0.2, a 10,000-job refresh keeps about 2,000 to
# 4,000 AWS call spans beside its few hundred run, step and batch spans (bench/tracing.py counts them).
DEFAULT_AWS_CALL_RATIO = 0.2


class AwsCallSampler(Sampler):
    """Keeps every span of a sampled trace, and of the per-call AWS spans (`rpc.system` aws-api) one in 1/ratio,
    chosen at random per call: a refresh of 10,000 jobs would otherwise send one span per job."""

    def __init__(self, ratio: float) -> None:
        self.ratio = ratio
        self._parent_based = ParentBased(ALWAYS_ON)

    def should_sample(self, parent_context: Context | None, trace_id: int, name: str,
                      kind: SpanKind | None = None, attributes: Attributes = None,
                      links: Sequence[Link] | None = None, trace_state=None) -> SamplingResult:
        result = self._parent_based.should_sample(parent_context, trace_id, name, kind, attributes, links,
                                                  trace_state)
        if (result.decision is Decision.RECORD_AND_SAMPLE and attributes
                and attributes.get("rpc.system") == "aws-api" and random.random() >= self.ratio):  # noqa: S311 (sampling, not a secret)
            return SamplingResult(Decision.DROP)
        return result

    def get_description(self) -> str:
        return f"AwsCallSampler{{{self.ratio}}}"


def aws_call_ratio(env: Mapping[str, str]) -> float:
    """`GLUE_INVENTORY_OTEL_AWS_CALL_RATIO` in `env`, else DEFAULT_AWS_CALL_RATIO."""
    ratio = read_environment(env).otel_aws_call_ratio
    return DEFAULT_AWS_CALL_RATIO if ratio is None else ratio


def _exporter(env: Mapping[str, str]) -> SpanExporter:
    name = env.get("OTEL_TRACES_EXPORTER", "").strip().lower() or "otlp"
    if name == "otlp":
        protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        if protocol and protocol != "http/protobuf":
            raise ConfigError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: glue_inventory sends http/protobuf "
                              "(point OTEL_EXPORTER_OTLP_ENDPOINT at the collector's HTTP port, 4318)")
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if name == "console":
        return ConsoleSpanExporter()
    raise ConfigError(f"OTEL_TRACES_EXPORTER={name!r}: expected otlp, console or none")


def install(env: Mapping[str, str]) -> TracerProvider:
    """The process's tracer provider, exporting in batches, and the botocore and threading instrumentation."""
    resource = Resource.create({SERVICE_NAME: "glue-inventory"})  # OTEL_SERVICE_NAME still wins
    provider = TracerProvider(resource=resource, sampler=AwsCallSampler(aws_call_ratio(env)))
    provider.add_span_processor(BatchSpanProcessor(_exporter(env)))
    trace.set_tracer_provider(provider)
    BotocoreInstrumentor().instrument(tracer_provider=provider)
    ThreadingInstrumentor().instrument()
    return provider
