"""LLM review of one Glue job through the official `openai` client.

The prompt holds the job's configuration (argument names, never values), its metrics, the code
findings and the numbered script, all passed through `redact_text` and cut to the token budget.
The answer is a strict JSON-schema object validated with pydantic. Nothing here raises: a missing
key is a recorded skip, an API failure or an invalid answer a recorded error.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from glue_inventory.analysis.code.secrets import redact_text, secret_argument_names
from glue_inventory.analysis.types import JobSpec
from glue_inventory.config import LLMSettings, read_environment

if TYPE_CHECKING:  # imported where a review is sent: openai costs every process of the tool seconds at start-up
    import openai

# Bump whenever the system prompt, the prompt layout or the answer schema changes: it is part of the cache key.
PROMPT_VERSION = "1"
# The openai client's own default; passed explicitly so `env` alone decides where requests go.
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
SKIP_REASON = "OPENAI_API_KEY not set — AI review skipped"

# tiktoken downloads its encodings at first use, which fails offline: estimate from characters.
CHARS_PER_TOKEN = 4
# Chat formatting adds a few tokens per message; the margin keeps the estimate an upper bound.
MESSAGE_OVERHEAD_TOKENS = 16
# Shares of the character budget: metrics and findings each at most a fifth, the script's first
# lines (imports, arguments, contexts) a third of what is left for the script.
SECTION_SHARE = 0.2
HEAD_SHARE = 1 / 3
FOCUS_RADIUS = 5
# Minified or generated lines would eat the budget of many ordinary ones.
MAX_LINE_CHARS = 400
GAP_MARKER_CHARS = 48
INVALID_ANSWER_ATTEMPTS = 2

Risk = Literal["low", "medium", "high", "critical"]
Level = Literal["low", "medium", "high"]

SYSTEM_PROMPT = """\
You review one AWS Glue job for a cost and risk inventory. Use only the evidence given: the job's
configuration, its run metrics, findings of static analysis, and its script with line numbers.
Recommend concrete changes. For each, cite the script lines it rests on in evidence_lines (use []
when it rests on configuration or metrics only), estimate the monthly saving in USD from the metrics
given (0 when it is not about cost, never more than the job's monthly cost) and the effort.
Values shown as ***REDACTED*** are secrets removed on purpose: never ask for them or guess them.
Lines marked as cut were left out to fit the prompt; do not assume what they contain.
Answer with the JSON object the schema describes and nothing else."""


class Recommendation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    category: Literal["cost", "performance", "reliability", "security", "maintainability"]
    severity: Risk
    est_monthly_savings_usd: float = Field(ge=0)
    effort: Level
    evidence_lines: list[Annotated[int, Field(ge=1)]]


class Review(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: str
    overall_risk: Risk
    recommendations: list[Recommendation]


# Structured outputs in strict mode: every property required, no additional properties (pydantic
# emits both for models with extra="forbid" and no defaults).
RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "glue_job_review", "strict": True, "schema": Review.model_json_schema()},
}


def make_client(env: Mapping[str, str]) -> openai.OpenAI | None:
    """An OpenAI client for `OPENAI_API_KEY` at `OPENAI_BASE_URL` (any compatible server); None without a key."""
    api_key = (env.get("OPENAI_API_KEY") or "").strip()
    if not api_key:
        return None
    base_url = (env.get("OPENAI_BASE_URL") or "").strip() or OPENAI_DEFAULT_BASE_URL
    import openai

    return openai.OpenAI(api_key=api_key, base_url=base_url)


def model_name(settings: LLMSettings, env: Mapping[str, str]) -> str:
    """`GLUE_INVENTORY_LLM_MODEL` in `env` when set, else the configured model."""
    return read_environment(env).llm_model or settings.model


def metrics_digest(metrics: Mapping[str, Any]) -> str:
    """sha256 of the metrics as canonical JSON, for `cache_key`."""
    canonical = json.dumps(metrics, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def cache_key(script_sha: str, metrics_digest: str, model: str, prompt_version: str = PROMPT_VERSION) -> str:
    """Same script, metrics, model and prompt version → same review; anything else asks again."""
    parts = "\x1f".join((script_sha, metrics_digest, model, prompt_version))
    return hashlib.sha256(parts.encode()).hexdigest()


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _clip(text: str, limit: int) -> str:
    marker = "\n… (cut to fit the token budget)"
    if len(text) <= limit:
        return text
    return text[:max(limit - len(marker), 0)] + marker


def _job_config(job: JobSpec) -> dict[str, Any]:
    # Argument and tag values stay out: names say what is configured, values may be secrets.
    return {
        "name": job.name, "job_type": job.job_type, "glue_version": job.glue_version,
        "worker_type": job.worker_type, "number_of_workers": job.number_of_workers,
        "max_capacity": job.max_capacity, "execution_class": job.execution_class,
        "timeout_minutes": job.timeout_minutes, "python_version": job.python_version,
        "default_argument_names": sorted(job.default_arguments), "tag_names": sorted(job.tags),
    }


def _focus_lines(findings: Sequence[Mapping[str, Any]]) -> list[int]:
    lines = []
    for finding in findings:
        line = finding.get("line")
        if isinstance(line, int) and line > 0:
            lines.append(line)
    return lines


def _priority(line_count: int, numbered: list[str], focus: list[int], head_chars: int) -> Iterator[int]:
    """0-based line indexes, most wanted first: the head, finding lines outwards, then the rest."""
    used = 0
    head_end = 0
    while head_end < line_count and used + len(numbered[head_end]) + 1 <= head_chars:
        used += len(numbered[head_end]) + 1
        head_end += 1
    yield from range(head_end)
    for distance in range(FOCUS_RADIUS + 1):
        for line in focus:
            for index in {line - 1 - distance, line - 1 + distance}:
                if 0 <= index < line_count:
                    yield index
    yield from range(head_end, line_count)


def _cut_script(lines: list[str], focus: list[int], budget_chars: int) -> tuple[str, int]:
    """The numbered script within `budget_chars`, and how many lines it shows."""
    width = len(str(len(lines)))
    numbered = [
        f"{number:>{width}}| {line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + ' …(clipped)'}"
        for number, line in enumerate(lines, start=1)
    ]
    if sum(len(line) + 1 for line in numbered) <= budget_chars:
        return "\n".join(numbered), len(lines)
    kept: set[int] = set()
    # A kept line next to nothing kept may open one more gap marker: charge for it up front.
    used = GAP_MARKER_CHARS
    for index in _priority(len(lines), numbered, focus, int(budget_chars * HEAD_SHARE)):
        if index in kept:
            continue
        isolated = index - 1 not in kept and index + 1 not in kept
        cost = len(numbered[index]) + 1 + (GAP_MARKER_CHARS if isolated else 0)
        if used + cost <= budget_chars:
            kept.add(index)
            used += cost
    out: list[str] = []
    previous = -1
    for index in sorted(kept):
        if index > previous + 1:
            out.append(f"… lines {previous + 2}–{index} cut …")
        out.append(numbered[index])
        previous = index
    if previous < len(lines) - 1:
        out.append(f"… lines {previous + 2}–{len(lines)} cut …")
    return "\n".join(out), len(kept)


def build_messages(
    job: JobSpec,
    metrics: Mapping[str, Any],
    findings: Sequence[Mapping[str, Any]],
    script: str | None,
    *,
    token_budget: int,
    known_secrets: Iterable[str] = (),
) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The chat messages, redacted and within `token_budget` (estimated), and facts about the cut.

    Redaction comes before cutting: a secret spanning a cut would otherwise escape the patterns.
    """
    secrets = list(known_secrets)
    budget_chars = (token_budget - 2 * MESSAGE_OVERHEAD_TOKENS) * CHARS_PER_TOKEN - len(SYSTEM_PROMPT)
    section_chars = int(budget_chars * SECTION_SHARE)
    job_text = redact_text(json.dumps(_job_config(job), indent=1), secrets)
    metrics_text = _clip(redact_text(json.dumps(metrics, indent=1, sort_keys=True, default=str), secrets),
                         section_chars)
    findings_text = _clip(redact_text(json.dumps(list(findings), indent=1, default=str), secrets), section_chars)
    head = (f"## Job configuration\n{job_text}\n\n## Metrics\n{metrics_text}\n\n"
            f"## Code findings\n{findings_text}\n\n## Script (line numbers on the left)\n")
    script_lines = redact_text(script, secrets).split("\n") if script else []
    script_chars = budget_chars - len(head)
    if script_chars <= 0:
        script_text, shown = "(cut: no budget left)", 0
    elif script_lines:
        script_text, shown = _cut_script(script_lines, _focus_lines(findings), script_chars)
    else:
        script_text, shown = "(script not available)", 0
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": head + script_text}]
    estimated = sum(estimate_tokens(m["content"]) + MESSAGE_OVERHEAD_TOKENS for m in messages)
    info = {
        "estimated_tokens": estimated, "token_budget": token_budget, "script_lines": len(script_lines),
        "script_lines_shown": shown, "script_cut": shown < len(script_lines),
    }
    return messages, info


def _parse(completion: Any, line_count: int) -> tuple[Review | None, str]:
    """The validated review, or None and what was wrong with the answer."""
    if not completion.choices:
        return None, "the answer had no choices"
    message = completion.choices[0].message
    if getattr(message, "refusal", None):
        return None, f"the model refused: {message.refusal}"
    if not message.content:
        return None, f"the answer was empty (finish_reason {completion.choices[0].finish_reason})"
    try:
        review = Review.model_validate_json(message.content)
    except ValidationError as exc:
        return None, f"the answer did not match the schema: {exc.errors(include_input=False)[:3]}"
    # The model may cite lines the script does not have; keep only real ones.
    for recommendation in review.recommendations:
        recommendation.evidence_lines = [n for n in recommendation.evidence_lines if n <= line_count]
    return review, ""


@dataclass(frozen=True)
class PreparedReview:
    """What is sent to the model (redacted and within the token budget), the facts about the cut, and the
    secret values that must never come back in an error message."""

    messages: list[dict[str, str]]
    prompt: dict[str, Any]
    secrets: tuple[str, ...]


def prepare_review(job: JobSpec, metrics: Mapping[str, Any], findings: Sequence[Mapping[str, Any]],
                   script: str | None, *, settings: LLMSettings, known_secrets: Iterable[str] = ()) -> PreparedReview:
    """The messages of one job's review, built once: the caller keys its cache on them and sends them."""
    # Secret DefaultArguments values are never sent, and must not slip in through the script either.
    secrets = (*known_secrets, *(job.default_arguments[name] for name in secret_argument_names(job.default_arguments)))
    messages, prompt = build_messages(job, metrics, findings, script, token_budget=settings.token_budget,
                                      known_secrets=secrets)
    return PreparedReview(messages, prompt, secrets)


def review_job(
    client: openai.OpenAI | None,
    *,
    job: JobSpec,
    metrics: Mapping[str, Any],
    findings: Sequence[Mapping[str, Any]],
    script: str | None,
    settings: LLMSettings,
    known_secrets: Iterable[str] = (),
    model: str | None = None,
) -> dict[str, Any]:
    """The structured review as a JSON-able dict with `status` ok, skipped or error; never raises.

    `model` defaults to `settings.model` (see `model_name` for the environment override). API
    errors (429, 5xx, timeouts) are retried by the client itself, `settings.max_retries` times.
    """
    if client is None:
        return {"status": "skipped", "reason": SKIP_REASON}
    prepared = prepare_review(job, metrics, findings, script, settings=settings, known_secrets=known_secrets)
    return send_review(client, prepared, settings=settings, model=model)


def send_review(client: openai.OpenAI, prepared: PreparedReview, *, settings: LLMSettings,
                model: str | None = None) -> dict[str, Any]:
    """`review_job` for messages already prepared."""
    import openai

    model = model or settings.model
    secrets = prepared.secrets
    recorded = {"model": model, "prompt_version": PROMPT_VERSION, "prompt": prepared.prompt}
    api = client.with_options(timeout=settings.timeout_s, max_retries=settings.max_retries)
    problem = ""
    for attempt in range(1, INVALID_ANSWER_ATTEMPTS + 1):
        try:
            # The SDK types messages and formats as TypedDicts; ours are the same plain dicts it sends.
            completion = api.chat.completions.create(  # type: ignore[call-overload]
                model=model, messages=prepared.messages, response_format=RESPONSE_FORMAT)
        except openai.OpenAIError as exc:
            message = f"{type(exc).__name__}: {exc}"
            return {"status": "error", "error": redact_text(message, [*secrets, str(client.api_key)]),
                    "attempts": attempt, **recorded}
        review, problem = _parse(completion, prepared.prompt["script_lines"])
        if review is not None:
            usage = completion.usage.model_dump() if completion.usage else None
            return {"status": "ok", "review": review.model_dump(), "attempts": attempt, "usage": usage,
                    **recorded, "model": completion.model or model}
    return {"status": "error", "attempts": INVALID_ANSWER_ATTEMPTS, **recorded,
            "error": redact_text(f"invalid answer after {INVALID_ANSWER_ATTEMPTS} attempts: {problem}", secrets)}
