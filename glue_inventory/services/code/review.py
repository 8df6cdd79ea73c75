"""Code analysis and the LLM review of each job's script, cached in the inventory database.

The code analysis is cached by script sha256, tool and rule versions, the job's argument names, type and
bookmark option; the LLM review by its prompt and model: the same prompt to the same model gets the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from glue_inventory import telemetry
from glue_inventory.analysis.code import ai_review
from glue_inventory.analysis.code.analysis import ScriptJob, analyse_scripts, summarise
from glue_inventory.analysis.code.analysis import cache_key as code_cache_key
from glue_inventory.analysis.code.rules import RULES_VERSION
from glue_inventory.analysis.code.script import ScriptInfo
from glue_inventory.analysis.code.static_tools import tool_versions
from glue_inventory.analysis.findings import JobContext
from glue_inventory.analysis.types import JobSpec
from glue_inventory.config import Settings
from glue_inventory.services.deep_inputs import digest, in_parallel
from glue_inventory.storage import repository
from glue_inventory.storage.repository import Bind

# The LLM server's limits, not ours, bound this: a few requests at a time.
LLM_REQUESTS_AT_ONCE = 4
# Scripts per pylint/bandit batch: large enough that the tools' start-up is paid rarely, small enough that
# the progress log moves and a batch that must be split (a timeout) costs little.
ANALYSIS_BATCH = 100


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


def _context(job: Mapping) -> JobContext:
    return JobContext(job_type=job.get("job_type"), bookmark_option=job.get("job_bookmark_option"))


def code_analyses(bind: Bind, jobs: Mapping[str, Mapping], scripts: Mapping[str, Mapping], settings: Settings,
                  log: Callable[[str], object] = lambda _: None) -> tuple[dict[str, dict], int]:
    """(per job: AST rules, pylint, bandit and secrets findings; cache hits). Scripts not in the cache are
    analysed in batches (pylint and bandit start once per batch); identical scripts of identical jobs once."""
    versions = tool_versions()
    results: dict[str, dict] = {}
    pending: dict[str, tuple[ScriptJob, list[str]]] = {}
    for key in sorted(jobs):
        script, job = scripts.get(key) or {}, jobs[key]
        arguments = dict.fromkeys(job.get("default_argument_names") or [], "")
        if (job["script_location"] or "").endswith(".scala"):
            arguments["--job-language"] = "scala"
        context = _context(job)
        # Script, tool versions and rules, the arguments' names and what the rules read of the job definition.
        cache_key = ":".join((code_cache_key(script.get("sha256") or "", versions, RULES_VERSION),
                              digest(sorted(arguments)), digest(job.get("secret_argument_names")),
                              digest([context.job_type, context.bookmark_option])))
        cached = repository.cache_get(bind, "code_analysis_cache", cache_key) if script.get("sha256") else None
        if cached is not None:
            results[key] = cached
            continue
        pending.setdefault(cache_key if script.get("sha256") else f"uncached:{key}",
                           (ScriptJob(_script_info(script), arguments, context), []))[1].append(key)
    hits = len(results)
    work = list(pending.items())
    for start in range(0, len(work), ANALYSIS_BATCH):
        batch = work[start:start + ANALYSIS_BATCH]
        with telemetry.span("code analysis batch", {"glue_inventory.scripts": len(batch)}):  # pylint, bandit once
            analysed = analyse_scripts([item for _, (item, _) in batch],
                                       timeout_s=settings.deep_analysis.tool_timeout_s)
        for (cache_key, (_, keys)), result in zip(batch, analysed, strict=True):
            _secret_argument_findings(result, jobs[keys[0]].get("secret_argument_names") or [])
            result["summary"] = summarise(result["findings"])
            if not cache_key.startswith("uncached:"):
                repository.cache_put(bind, "code_analysis_cache", cache_key, result)
            results.update(dict.fromkeys(keys, result))
        log(f"code analysis: {min(start + ANALYSIS_BATCH, len(work))}/{len(work)} scripts analysed, {hits} from cache")
    return results, hits


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
        prepared = ai_review.prepare_review(specs[key], metrics, findings, script.get("text"), settings=settings.llm)
        cache_key = ai_review.cache_key(script.get("sha256") or "none", digest(prepared.messages), model)
        cached = repository.cache_get(bind, "llm_cache", cache_key)
        if cached is not None:
            return cached
        with telemetry.span("llm review", {"gen_ai.request.model": model}) as span:
            result = ai_review.send_review(client, prepared, settings=settings.llm, model=model)
            span.set_attribute("glue_inventory.review_status", str(result.get("status")))
        if result.get("status") == "ok":
            repository.cache_put(bind, "llm_cache", cache_key, result)
        return result

    return in_parallel(sorted(specs), work, LLM_REQUESTS_AT_ONCE)
