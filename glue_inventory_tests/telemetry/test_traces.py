"""Traces of a whole refresh, sent over OTLP/HTTP to a receiver in the test: the tree of run, step, AWS call and
batch spans, no secret in any span, the trace id in the run's log; and without the variables, no SDK at all."""

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory_tests.llm_server import LLMServer
from glue_inventory_tests.otlp_receiver import OTLPReceiver, ReceivedSpan

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "520987654321"
OPENAI_KEY = "sk-test-tracing-0123456789abcdefghij"
REVIEW = {"summary": "Fine.", "overall_risk": "low", "recommendations": []}
# What a process that never asked for traces may hold of OpenTelemetry: the API, nothing that sends.
SENDING = ("opentelemetry.sdk", "opentelemetry.exporter", "opentelemetry.instrumentation")


@pytest.fixture
def refresh_env(tmp_path):
    fleet = build_fleet(15, 21, datetime.now(UTC), account_id=ACCOUNT)
    with start_simulator(fleet) as sim, LLMServer(json.dumps(REVIEW)) as llm, OTLPReceiver() as receiver:
        home = tmp_path / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("AWS_", "GLUE_INVENTORY_", "DAGSTER_", "OTEL_", "OPENAI_"))}
        env |= sim.env() | {
            "DAGSTER_HOME": str(home),
            "GLUE_INVENTORY_DATABASE_URL": f"sqlite:///{tmp_path / 'inventory.db'}",
            "GLUE_INVENTORY_REPORTS_DIR": str(tmp_path / "reports"),
            "OPENAI_API_KEY": OPENAI_KEY,
            "OPENAI_BASE_URL": llm.base_url,
        }
        yield env, sim, receiver


def _refresh(env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run([str(BIN / "glue-inventory"), "refresh", "--deep", "2"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _values(span: ReceivedSpan) -> list[str]:
    texts = [str(value) for value in span.attributes.values()]
    texts += [str(value) for _, attributes in span.events for value in attributes.values()]
    return texts + [name for name, _ in span.events]


def test_a_refresh_is_one_trace_of_runs_steps_aws_calls_and_batches(refresh_env):
    env, sim, receiver = refresh_env
    env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "GLUE_INVENTORY_OTEL_AWS_CALL_RATIO": "1"}
    done = _refresh(env)
    spans = receiver.spans
    by_id = {span.span_id: span for span in spans}

    (root,) = [span for span in spans if not span.parent_span_id]
    assert root.name == "glue_inventory.pipeline"
    assert root.resource["service.name"] == "glue-inventory"
    assert {span.trace_id for span in spans} == {root.trace_id}
    assert all(span.parent_span_id in by_id for span in spans if span is not root), "a span lost its parent"

    runs = [span for span in spans if span.name.startswith("dagster.run ")]
    assert runs and all(run.parent_span_id == root.span_id for run in runs)
    steps = [span for span in spans if span.name.startswith("dagster.step ")]
    for step in steps:
        run = by_id[step.parent_span_id]
        assert run in runs and step.attributes["dagster.run_id"] == run.attributes["dagster.run_id"]
    assert {step.name for step in steps} >= {
        "dagster.step glue_jobs", "dagster.step job_preliminary_metrics", "dagster.step deep_analysis_candidates",
        "dagster.step job_script", "dagster.step job_code_analysis", "dagster.step job_ai_review",
        "dagster.step executive_report"}
    live = [job for job in sim.fleet.jobs if job.region == "us-east-1"]
    (preliminary,) = [step for step in steps if step.name == "dagster.step job_preliminary_metrics"]
    assert preliminary.attributes["dagster.partition.count"] == len(live)
    assert preliminary.attributes["dagster.asset_keys"] == ["job_preliminary_metrics"]

    def step_of(span: ReceivedSpan) -> ReceivedSpan | None:
        while span.parent_span_id:
            span = by_id[span.parent_span_id]
            if span in steps:
                return span
        return None

    calls = [span for span in spans if span.attributes.get("rpc.system") == "aws-api"]
    glue_calls = [call for call in calls if call.attributes["rpc.service"] == "Glue"]
    assert len(glue_calls) >= len(live), "one GetJobRuns per job at least, every call kept at ratio 1"
    for call in glue_calls:
        assert call.attributes["cloud.account.id"] == ACCOUNT
        assert call.attributes["cloud.region"] == "us-east-1"
        assert call.attributes["retry_attempts"] == 0
        assert step_of(call) is not None
    assert {step_of(call).name for call in glue_calls if call.attributes["rpc.method"] == "GetJobRuns"} == {
        "dagster.step job_preliminary_metrics"}

    names = Counter(span.name for span in spans)
    assert names["db upsert_runs"] >= 1 and names["db upsert_jobs"] >= 1
    assert names["s3 download"] >= 1 and names["code analysis batch"] >= 1 and names["llm review"] >= 1
    assert step_of(next(s for s in spans if s.name == "llm review")).name == "dagster.step job_ai_review"

    secrets = {OPENAI_KEY, env["AWS_SECRET_ACCESS_KEY"], *(s for job in sim.fleet.jobs for s in job.secrets)}
    leaks = [(span.name, text) for span in spans for text in _values(span)
             for secret in secrets if secret in text]
    assert not leaks
    assert f"trace_id={root.trace_id}" in done.stderr


def test_without_the_variables_nothing_is_sent_and_no_sdk_is_imported(refresh_env):
    env, _, receiver = refresh_env
    # An endpoint with the exporter off: the endpoint is known, and still nothing goes there.
    env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_TRACES_EXPORTER": "none"}
    script = ("import sys, dagster as dg\n"
              "from glue_inventory.pipeline import run_pipeline\n"
              "with dg.DagsterInstance.get() as instance:\n"
              "    run_pipeline(instance, log=lambda _: None, deep_jobs=1)\n"
              "print(' '.join(sorted(m for m in sys.modules if m.startswith('opentelemetry'))))\n")
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = done.stdout.split()
    assert "opentelemetry.trace" in loaded
    assert not [module for module in loaded if module.startswith(SENDING)]
    assert receiver.requests == 0
    assert "trace_id=" not in done.stderr
