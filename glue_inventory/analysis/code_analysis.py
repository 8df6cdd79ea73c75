"""Everything known about one job's code: script checks, AST rules, pylint, bandit and argument secrets."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from glue_inventory.analysis.code_rules import RULES_VERSION, run_code_rules
from glue_inventory.analysis.code_rules_common import SEVERITIES, SEVERITY_RANK, Finding, finding, sort_key
from glue_inventory.analysis.script import ScriptInfo
from glue_inventory.analysis.secrets import redact_text, secret_argument_names
from glue_inventory.analysis.static_tools import run_bandit, run_pylint, tool_versions

# A generated or hostile script can repeat one problem thousands of times; reports need a few.
MAX_FINDINGS_PER_RULE = 50

# Findings that mean the AST is unusable: the tools would only repeat the parse failure or crash.
_UNPARSEABLE = {"python2-syntax", "syntax-error", "too-deeply-nested"}


def cache_key(sha256: str, tool_versions: Mapping[str, str], rules_version: str) -> str:
    """Identifies an analysis result: same script bytes, tools and rules give the same findings."""
    payload = json.dumps({"sha256": sha256, "tools": dict(tool_versions), "rules": rules_version}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _argument_findings(default_arguments: Mapping[str, str]) -> list[Finding]:
    """One finding per secret-looking argument; `argument` carries its name (never the value)."""
    return [
        {
            **finding(
                "secret-in-arguments", "critical", None,
                f"Job argument `{name}` looks like a secret stored in plain text in the job definition "
                "(readable with glue:GetJob and in the console); pass a Secrets Manager secret id instead.",
                "arguments",
            ),
            "argument": name,
        }
        for name in secret_argument_names(dict(default_arguments))
    ]


def _run_tools(text: str, timeout_s: float) -> tuple[list[Finding], dict[str, str]]:
    # The two tools are separate processes; running them side by side halves the wall time.
    with ThreadPoolExecutor(max_workers=2) as pool:
        pylint = pool.submit(run_pylint, text, timeout_s)
        bandit = pool.submit(run_bandit, text, timeout_s)
        results = {"pylint": pylint.result(), "bandit": bandit.result()}
    status = {}
    for tool, found in results.items():
        problems = {item["rule_id"] for item in found} & {"tool-timeout", "tool-error"}
        status[tool] = "timeout" if "tool-timeout" in problems else "error" if problems else "ran"
    return results["pylint"] + results["bandit"], status


def _capped(findings: list[Finding]) -> list[Finding]:
    kept, dropped = [], Counter[str]()
    seen = Counter[str]()
    for item in sorted(findings, key=sort_key):
        seen[item["rule_id"]] += 1
        if seen[item["rule_id"]] <= MAX_FINDINGS_PER_RULE:
            kept.append(item)
        else:
            dropped[item["rule_id"]] += 1
    for rule_id, count in sorted(dropped.items()):
        kept.append(finding(
            "findings-truncated", "info", None,
            f"{count} more `{rule_id}` findings not listed (first {MAX_FINDINGS_PER_RULE} kept).", "analysis",
        ))
    return sorted(kept, key=sort_key)


def summarise(findings: list[Finding]) -> dict[str, Any]:
    by_severity = {severity: 0 for severity in SEVERITIES}
    by_severity.update(Counter(item["severity"] for item in findings))
    worst = min((item["severity"] for item in findings), key=SEVERITY_RANK.__getitem__, default=None)
    return {
        "total": len(findings),
        "by_severity": by_severity,
        "by_source": dict(sorted(Counter(item["source"] for item in findings).items())),
        "by_rule": dict(sorted(Counter(item["rule_id"] for item in findings).items())),
        "highest_severity": worst,
    }


def analyse_script(info: ScriptInfo, default_arguments: Mapping[str, str], *, timeout_s: float) -> dict[str, Any]:
    """Findings (sorted, messages redacted), a summary and the cache key for one job script."""
    arguments = {str(k): "" if v is None else str(v) for k, v in (default_arguments or {}).items()}
    findings = [*info.findings, *_argument_findings(arguments)]
    tools = {"pylint": "skipped", "bandit": "skipped"}
    language = arguments.get("--job-language", "python").strip().lower()
    if info.kind == "python" and language == "scala":
        findings.append(finding(
            "scala-not-analysed", "info", None,
            "--job-language is scala: the code rules and tools are Python-only.", "script",
        ))
    elif info.kind == "python":
        rule_findings = run_code_rules(info.text)
        findings += rule_findings
        if not {item["rule_id"] for item in rule_findings} & _UNPARSEABLE:
            tool_findings, tools = _run_tools(info.text, timeout_s)
            findings += tool_findings
    credential_lines = {item["line"] for item in findings if item["rule_id"] == "hardcoded-credentials"}
    findings = [
        item for item in findings
        if not (item["rule_id"] == "secret-in-script" and item["line"] in credential_lines)
    ]
    known = [arguments[name] for name in secret_argument_names(arguments)]
    findings = _capped([{**item, "message": redact_text(item["message"], known)} for item in findings])
    versions = tool_versions()
    return {
        "location": info.location,
        "sha256": info.sha256,
        "kind": info.kind,
        "size_bytes": info.size_bytes,
        "encoding": info.encoding,
        "findings": findings,
        "summary": summarise(findings),
        "tools": tools,
        "tool_versions": dict(versions),
        "rules_version": RULES_VERSION,
        "cache_key": cache_key(info.sha256, versions, RULES_VERSION),
    }
