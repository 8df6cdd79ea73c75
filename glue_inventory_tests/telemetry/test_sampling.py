"""When traces are on, which AWS call spans are kept, and where a run's step spans hang."""

import random
import uuid

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from glue_inventory import telemetry
from glue_inventory.config import ConfigError
from glue_inventory.telemetry.sdk import DEFAULT_AWS_CALL_RATIO, AwsCallSampler, aws_call_ratio

AWS_CALL = {"rpc.system": "aws-api", "rpc.service": "Glue", "rpc.method": "GetJobRuns"}


@pytest.mark.parametrize(("env", "on"), [
    ({}, False),
    ({"OTEL_SERVICE_NAME": "glue-inventory"}, False),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
    ({"OTEL_TRACES_EXPORTER": "console"}, True),
    ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, False),
    ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, False),
])
def test_traces_are_requested_by_the_standard_variables(env, on):
    assert telemetry.requested(env) is on


def _spans(ratio: float, calls: int) -> list[str]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=AwsCallSampler(ratio))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("dagster.step job_preliminary_metrics"):
        for _ in range(calls):
            with tracer.start_as_current_span("Glue.GetJobRuns", kind=trace.SpanKind.CLIENT, attributes=AWS_CALL):
                pass
        with tracer.start_as_current_span("db upsert_runs"):
            pass
    return [span.name for span in exporter.get_finished_spans()]


@pytest.mark.parametrize(("ratio", "low", "high"), [(0.0, 0, 0), (1.0, 2000, 2000), (0.2, 330, 470)])
def test_aws_call_spans_are_kept_at_the_ratio_and_every_other_span_is_kept(ratio, low, high):
    random.seed(26)
    names = _spans(ratio, 2000)
    assert low <= names.count("Glue.GetJobRuns") <= high
    assert names.count("db upsert_runs") == 1 and names.count("dagster.step job_preliminary_metrics") == 1


@pytest.mark.parametrize(("raw", "ratio"), [(None, DEFAULT_AWS_CALL_RATIO), ("", DEFAULT_AWS_CALL_RATIO),
                                            ("0", 0.0), ("0.05", 0.05), ("1", 1.0)])
def test_the_ratio_comes_from_the_environment(raw, ratio):
    env = {} if raw is None else {telemetry.AWS_CALL_RATIO_VARIABLE: raw}
    assert aws_call_ratio(env) == ratio


@pytest.mark.parametrize("raw", ["1.5", "-0.1", "half", "nan"])
def test_a_ratio_out_of_range_says_what_is_expected(raw):
    with pytest.raises(ConfigError, match="from 0 to 1"):
        aws_call_ratio({telemetry.AWS_CALL_RATIO_VARIABLE: raw})


def test_steps_hang_under_the_launching_span_else_share_a_trace_named_by_the_run_id():
    run_id = str(uuid.uuid4())
    derived = trace.get_current_span(telemetry.parent_context(None, run_id)).get_span_context()
    assert trace.format_trace_id(derived.trace_id) == uuid.UUID(run_id).hex
    assert derived.trace_flags.sampled
    launcher = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    parent = trace.get_current_span(telemetry.parent_context(launcher, run_id)).get_span_context()
    assert (trace.format_trace_id(parent.trace_id), trace.format_span_id(parent.span_id)) == (
        "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    broken = trace.get_current_span(telemetry.parent_context("not-a-traceparent", run_id)).get_span_context()
    assert broken.trace_id == derived.trace_id
