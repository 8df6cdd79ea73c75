"""Code analysis and the LLM review of each job's script, cached in the inventory database.

The code analysis is cached by script sha256, tool and rule versions and the job's argument names; the
LLM review by its prompt and model: the same prompt to the same model gets the same answer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from glue_inventory.analysis import ai_review
from glue_inventory.analysis.code_analysis import analyse_script, summarise
from glue_inventory.analysis.code_analysis import cache_key as code_cache_key
from glue_inventory.analysis.code_rules import RULES_VERSION
from glue_inventory.analysis.script import ScriptInfo
from glue_inventory.analysis.static_tools import tool_versions
from glue_inventory.analysis.types import JobSpec
from glue_inventory.config import Settings
from glue_inventory.services.deep_inputs import digest, in_parallel
from glue_inventory.storage import repository
from glue_inventory.storage.repository import Bind

# The LLM server's limits, not ours, bound this: a few requests at a time.
LLM_REQUESTS_AT_ONCE = 4


def _script_info(script: Mapping) -> ScriptInfo:
    return ScriptInfo(location=script.get("location") or "", sha256=script.get("sha256") or "",
                      size_bytes=script.get("size_bytes") or 0, kind=script.get("kind") or "missing",
                      text=script.get("text") or "", encoding=script.get("encoding"),
                      findings=tuple(script.get("findings") or ()))


def _secret_argument_findings(result: dict, names: list[str]) -> None:
    """Every secret-looking DefaultArgument is a finding, whether or not the script analysis saw it."""
    flagged = {f.get("argument") for f in result["findings"] if f["rule_id"] == "secret-in-arguments"}
    for name in names:
        if name not in flagged:
            result["findings"].append({"rule_id": "secret-in-arguments", "severity": "critical", "line": None,
                                       "message": f"DefaultArgument {name} looks like a secret: move it to "
                                                  "AWS Secrets Manager", "source": "arguments", "argument": name})


def code_analyses(bind: Bind, jobs: Mapping[str, Mapping], scripts: Mapping[str, Mapping],
                  settings: Settings) -> tuple[dict[str, dict], int]:
    """(per job: AST rules, pylint, bandit and secrets findings; cache hits)."""
    hits = 0
    versions = tool_versions()

    def work(key: str) -> dict:
        nonlocal hits
        script, job = scripts.get(key) or {}, jobs[key]
        arguments = dict.fromkeys(job.get("default_argument_names") or [], "")
        if (job["script_location"] or "").endswith(".scala"):
            arguments["--job-language"] = "scala"
        # Script, tool versions and rules, and the arguments' names: any change re-analyses.
        cache_key = ":".join((code_cache_key(script.get("sha256") or "", versions, RULES_VERSION),
                              digest(sorted(arguments)), digest(job.get("secret_argument_names"))))
        if script.get("sha256"):
            cached = repository.cache_get(bind, "code_analysis_cache", cache_key)
            if cached is not None:
                hits += 1
                return cached
        result = analyse_script(_script_info(script), arguments, timeout_s=settings.deep_analysis.tool_timeout_s)
        _secret_argument_findings(result, job.get("secret_argument_names") or [])
        result["summary"] = summarise(result["findings"])
        if script.get("sha256"):
            repository.cache_put(bind, "code_analysis_cache", cache_key, result)
        return result

    # pylint and bandit are CPU-bound subprocesses: one per core.
    return in_parallel(sorted(jobs), work, os.cpu_count() or 2), hits


def ai_reviews(bind: Bind, specs: Mapping[str, JobSpec], scripts: Mapping[str, Mapping],
               code: Mapping[str, Mapping], cloudwatch: Mapping[str, Mapping], settings: Settings,
               env: Mapping[str, str]) -> dict[str, dict]:
    """Per job: a structured LLM review, or a recorded skip when `env` holds no OPENAI_API_KEY."""
    client = ai_review.make_client(env)
    model = ai_review.model_name(settings.llm, env)

    def work(key: str) -> dict:
        script = scripts.get(key) or {}
        metrics = {"preliminary": None, "cloudwatch": (cloudwatch.get(key) or {}).get("rightsizing")}
        findings = (code.get(key) or {}).get("findings") or []
        if client is None:
            return ai_review.review_job(None, job=specs[key], metrics=metrics, findings=findings, script=None,
                                        settings=settings.llm)
        messages, _ = ai_review.build_messages(specs[key], metrics, findings, script.get("text"),
                                               token_budget=settings.llm.token_budget)
        cache_key = ai_review.cache_key(script.get("sha256") or "none", digest(messages), model)
        cached = repository.cache_get(bind, "llm_cache", cache_key)
        if cached is not None:
            return cached
        result = ai_review.review_job(client, job=specs[key], metrics=metrics, findings=findings,
                                      script=script.get("text"), settings=settings.llm, model=model)
        if result.get("status") == "ok":
            repository.cache_put(bind, "llm_cache", cache_key, result)
        return result

    return in_parallel(sorted(specs), work, LLM_REQUESTS_AT_ONCE)
