"""review_job with the real openai client against the local server in `llm_server.py`; all offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from glue_inventory.analysis.code.ai_review import (
    PROMPT_VERSION,
    SKIP_REASON,
    build_messages,
    cache_key,
    estimate_tokens,
    make_client,
    metrics_digest,
    model_name,
    prepare_review,
    review_job,
    send_review,
)
from glue_inventory.analysis.types import JobSpec
from glue_inventory.config import LLMSettings
from glue_inventory_tests.llm_server import LLMServer

API_KEY = "sk-test-local-0123456789"
ARGUMENT_SECRET = "Arg-Planted-Secret-4242"
KNOWN_SECRET = "Known-Planted-Secret-7777"
SCRIPT_SECRET = "Script-Planted-Secret-9999"
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
PLANTED = (ARGUMENT_SECRET, KNOWN_SECRET, SCRIPT_SECRET, AWS_KEY)

JOB = JobSpec(
    name="orders-nightly", job_type="glueetl", worker_type="G.2X", number_of_workers=20, glue_version="4.0",
    default_arguments={"--db_password": ARGUMENT_SECRET, "--enable-metrics": "true", "--TempDir": "s3://tmp/"},
    tags={"owner": "data-team"},
)
SCRIPT = "\n".join([
    "import sys",
    "from awsglue.context import GlueContext",
    f'password = "{SCRIPT_SECRET}"',
    f'aws_key = "{AWS_KEY}"',
    f"conn = connect(user='etl', pw='{ARGUMENT_SECRET}', token='{KNOWN_SECRET}')",
    "df = spark.read.parquet('s3://bucket/orders/')",
    "df.collect()",
])
FINDINGS = [{"rule": "collect-on-dataframe", "line": 7, "severity": "high", "message": "collect() pulls all rows"}]
METRICS = {"monthly_projection_usd": 420.0, "rightsizing": {"status": "over_provisioned"}}
ANSWER = {
    "summary": "Over-provisioned and collects to the driver.",
    "overall_risk": "high",
    "recommendations": [{
        "title": "Drop collect()", "category": "performance", "severity": "high",
        "est_monthly_savings_usd": 100.0, "effort": "low", "evidence_lines": [7, 9999],
    }],
}


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer(answer=json.dumps(ANSWER)) as running:
        yield running


def _settings(**overrides: Any) -> LLMSettings:
    return LLMSettings(**{"model": "test-model", "token_budget": 4000, "timeout_s": 5.0, "max_retries": 2,
                          **overrides})


def _review(server: LLMServer, settings: LLMSettings | None = None, **overrides: Any) -> dict[str, Any]:
    client = make_client({"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": server.base_url})
    arguments = {"job": JOB, "metrics": METRICS, "findings": FINDINGS, "script": SCRIPT,
                 "settings": settings or _settings(), "known_secrets": [KNOWN_SECRET], **overrides}
    return review_job(client, **arguments)


def _sent_text(server: LLMServer) -> str:
    return "\n".join(m["content"] for body in server.requests for m in body["messages"])


def test_sends_model_strict_schema_and_a_redacted_prompt(server: LLMServer) -> None:
    result = _review(server)

    assert result["status"] == "ok", result
    body = server.requests[0]
    assert body["model"] == "test-model"
    assert server.headers[0]["authorization"] == f"Bearer {API_KEY}"
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert schema["required"] == ["summary", "overall_risk", "recommendations"]
    assert schema["properties"]["overall_risk"]["enum"] == ["low", "medium", "high", "critical"]
    [system, user] = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    sent = _sent_text(server)
    for secret in PLANTED:
        assert secret not in sent
    assert "--db_password" in sent and "--TempDir" in sent and "s3://tmp/" not in sent
    assert "7| df.collect()" in user["content"]
    assert "collect-on-dataframe" in user["content"] and "420.0" in user["content"]


def test_strict_schema_requires_every_property_and_forbids_others(server: LLMServer) -> None:
    _review(server)
    schema = server.requests[0]["response_format"]["json_schema"]["schema"]

    objects = [schema, *schema.get("$defs", {}).values()]
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert set(obj["required"]) == set(obj["properties"])
    recommendation = schema["$defs"]["Recommendation"]["properties"]
    assert recommendation["category"]["enum"] == ["cost", "performance", "reliability", "security",
                                                  "maintainability"]
    assert recommendation["effort"]["enum"] == ["low", "medium", "high"]


def test_parses_the_structured_answer(server: LLMServer) -> None:
    result = _review(server)

    assert result["review"]["overall_risk"] == "high"
    [recommendation] = result["review"]["recommendations"]
    assert recommendation["title"] == "Drop collect()"
    # Line 9999 does not exist in a 7-line script.
    assert recommendation["evidence_lines"] == [7]
    assert result["attempts"] == 1
    assert result["prompt_version"] == PROMPT_VERSION
    assert result["prompt"]["script_cut"] is False
    json.dumps(result)


def test_prompt_stays_within_budget_for_a_100k_line_script(server: LLMServer) -> None:
    lines = [f"df_{n} = spark.read.parquet('s3://bucket/part/{n}').where(col('id') > {n})" for n in range(100_000)]
    lines[49_999] = "rows = df_49998.collect()"
    lines[99_989] = "df_x.toPandas()"
    findings = [{"rule": "collect", "line": 50_000}, {"rule": "to-pandas", "line": 99_990}]
    budget = 3000

    result = _review(server, _settings(token_budget=budget), script="\n".join(lines), findings=findings)

    assert result["status"] == "ok", result
    messages = server.requests[0]["messages"]
    assert sum(estimate_tokens(m["content"]) for m in messages) <= budget
    assert result["prompt"]["estimated_tokens"] <= budget
    user = messages[1]["content"]
    assert "     1| df_0 = " in user
    assert " 50000| rows = df_49998.collect()" in user and " 49995| " in user and " 50005| " in user
    assert " 99990| df_x.toPandas()" in user
    assert "cut …" in user
    assert result["prompt"]["script_cut"] is True and result["prompt"]["script_lines"] == 100_000


def test_retries_server_errors_then_succeeds(server: LLMServer) -> None:
    server.fail(2, status=500)

    result = _review(server, _settings(max_retries=2))

    assert result["status"] == "ok"
    assert len(server.requests) == 3


def test_records_an_error_after_persistent_failure(server: LLMServer) -> None:
    server.fail(10, status=429, message=f"Rate limit reached for key {API_KEY} near {KNOWN_SECRET}")

    result = _review(server, _settings(max_retries=1))

    assert result["status"] == "error"
    assert "RateLimitError" in result["error"]
    assert API_KEY not in result["error"] and KNOWN_SECRET not in result["error"]
    assert len(server.requests) == 2


def test_records_a_timeout(server: LLMServer) -> None:
    server.stall(1.0)

    result = _review(server, _settings(timeout_s=0.2, max_retries=0))

    assert result["status"] == "error"
    assert "Timeout" in result["error"]


@pytest.mark.parametrize("invalid", ["not json at all", json.dumps({**ANSWER, "overall_risk": "apocalyptic"})])
def test_an_invalid_answer_is_asked_once_more(server: LLMServer, invalid: str) -> None:
    server.answer_with(invalid)

    result = _review(server)

    assert result["status"] == "ok"
    assert result["attempts"] == 2 and len(server.requests) == 2


def test_two_invalid_answers_are_a_recorded_error(server: LLMServer) -> None:
    server.answer_with("{}", '{"summary": 1}')

    result = _review(server)

    assert result["status"] == "error"
    assert result["error"].startswith("invalid answer after 2 attempts")
    assert len(server.requests) == 2


def test_no_key_skips_without_calling_anyone(server: LLMServer) -> None:
    client = make_client({"OPENAI_BASE_URL": server.base_url})

    result = review_job(client, job=JOB, metrics=METRICS, findings=FINDINGS, script=SCRIPT, settings=_settings())

    assert client is None
    assert result == {"status": "skipped", "reason": SKIP_REASON}
    assert result["reason"] == "OPENAI_API_KEY not set — AI review skipped"
    assert server.requests == []


def test_client_and_model_follow_the_environment(server: LLMServer) -> None:
    env = {"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": server.base_url, "GLUE_INVENTORY_LLM_MODEL": "env-model"}

    client = make_client(env)

    assert client is not None and str(client.base_url).rstrip("/") == server.base_url
    assert model_name(_settings(), env) == "env-model"
    assert model_name(_settings(), {}) == "test-model"
    result = review_job(client, job=JOB, metrics=METRICS, findings=FINDINGS, script=SCRIPT,
                        settings=_settings(), model=model_name(_settings(), env))
    assert result["status"] == "ok" and server.requests[0]["model"] == "env-model"


def test_a_budget_with_no_room_for_the_script_says_it_was_cut() -> None:
    messages, info = build_messages(JOB, METRICS, FINDINGS, SCRIPT, token_budget=200)

    assert info["script_lines_shown"] == 0 and info["script_cut"] is True
    assert "(cut: no budget left)" in messages[1]["content"]


def test_cache_key_changes_with_each_part() -> None:
    digest = metrics_digest(METRICS)
    base = cache_key("sha", digest, "m")

    assert base == cache_key("sha", metrics_digest(dict(reversed(METRICS.items()))), "m", PROMPT_VERSION)
    assert len({base, cache_key("sha2", digest, "m"), cache_key("sha", metrics_digest({}), "m"),
                cache_key("sha", digest, "m2"), cache_key("sha", digest, "m", "other-version")}) == 5


def test_the_prepared_messages_are_what_is_sent(server: LLMServer) -> None:
    """The deep analysis keys its cache on the prepared messages: they must be exactly the request's."""
    client = make_client({"OPENAI_API_KEY": API_KEY, "OPENAI_BASE_URL": server.base_url})
    prepared = prepare_review(JOB, METRICS, FINDINGS, SCRIPT, settings=_settings(), known_secrets=[KNOWN_SECRET])

    result = send_review(client, prepared, settings=_settings())

    assert result["status"] == "ok" and result["prompt"] == prepared.prompt
    assert server.requests[0]["messages"] == prepared.messages
    assert KNOWN_SECRET not in json.dumps(prepared.messages)
