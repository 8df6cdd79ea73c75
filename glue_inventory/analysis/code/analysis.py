"""Everything known about one job's code: script checks, AST rules, pylint, bandit and argument secrets."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from glue_inventory.analysis.code.rules import RULES_VERSION, CodeRules, check_script
from glue_inventory.analysis.code.script import ScriptInfo
from glue_inventory.analysis.code.secrets import redact_text, secret_argument_names
from glue_inventory.analysis.code.star_exports import STAR_EXPORTS
from glue_inventory.analysis.code.static_tools import ToolResults, run_tools, tool_versions
from glue_inventory.analysis.findings import (
    SEVERITIES,
    SEVERITY_RANK,
    Finding,
    JobContext,
    bookmark_option,
    finding,
    sort_key,
)

# A generated or hostile script can repeat one problem thousands of times; reports need a few.
MAX_FINDINGS_PER_RULE = 50

# Findings that mean the AST is unusable: the tools would only repeat the parse failure or crash.
_UNPARSEABLE = {"python2-syntax", "syntax-error", "too-deeply-nested"}
# bandit's hard-coded password tests (string, function argument, default): they fire on names such as
# `secret_name`, so they are dropped where the AST proves the string is a secret's name.
_PASSWORD_TESTS = {"bandit:B105", "bandit:B106", "bandit:B107"}
_UNDEFINED_NAME = "pylint:E0602"
_UNDEFINED = re.compile(r"Undefined variable '([^']+)'")


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


@dataclass(frozen=True)
class ScriptJob:
    """One script to analyse: its (redacted) text, the job's DefaultArguments (names are enough) and what the
    job's definition tells the rules; `context` None derives the bookmark option from `default_arguments`."""

    info: ScriptInfo
    default_arguments: Mapping[str, str]
    context: JobContext | None = None


def _context(item: ScriptJob, arguments: Mapping[str, str]) -> JobContext:
    if item.context is not None:
        return item.context
    # Arguments known but no --job-bookmark-option: Glue's default applies; none known: unknown.
    return JobContext(bookmark_option=bookmark_option(dict(arguments)) if arguments else None)


def _tool_noise(findings: list[Finding], rules: CodeRules | None) -> list[Finding]:
    """The tools' findings without those the AST shows to be wrong: bandit's hard-coded password tests
    (B105-B107) on lines that only name a secret, and pylint's undefined names that a `from module import *`
    of a module not installed here (awsglue.transforms, pyspark.sql.functions) defines."""
    name_lines = rules.secret_name_lines if rules else frozenset()
    starred = _star_names(rules.star_imports) if rules else frozenset()

    def from_star(item: Finding) -> bool:
        return item["rule_id"] == _UNDEFINED_NAME and (starred is None or _undefined(item) in starred)

    return [item for item in findings
            if not (item["rule_id"] in _PASSWORD_TESTS and item["line"] in name_lines) and not from_star(item)]


def _star_names(modules: frozenset[str]) -> frozenset[str] | None:
    """The names star imports bring in that pylint cannot see; None when they could be any name (a module
    neither installed nor known)."""
    names: set[str] = set()
    for module in modules:
        if module in STAR_EXPORTS:
            names |= STAR_EXPORTS[module]
        elif not _installed(module):
            return None
    return frozenset(names)


def _undefined(item: Finding) -> str | None:
    match = _UNDEFINED.search(item["message"])
    return match.group(1) if match else None


def _installed(module: str) -> bool:
    # Only the top-level package is looked up: finding a dotted name would import its parents.
    return importlib.util.find_spec(module.split(".")[0]) is not None


def analyse_scripts(items: Sequence[ScriptJob], *, timeout_s: float) -> list[dict[str, Any]]:
    """`analyse_script` for many scripts at once: the AST rules per script, pylint and bandit once per batch."""
    prepared = []
    for item in items:
        arguments = {str(k): "" if v is None else str(v) for k, v in (item.default_arguments or {}).items()}
        info = item.info
        findings = [*info.findings, *_argument_findings(arguments)]
        rules = None
        language = arguments.get("--job-language", "python").strip().lower()
        if info.kind == "python" and language == "scala":
            findings.append(finding(
                "scala-not-analysed", "info", None,
                "--job-language is scala: the code rules and tools are Python-only.", "script",
            ))
        elif info.kind == "python":
            rules = check_script(info.text, _context(item, arguments))
            findings += rules.findings
        prepared.append((info, arguments, findings, rules))
    parseable = [index for index, (_, _, _, rules) in enumerate(prepared)
                 if rules is not None and not {f["rule_id"] for f in rules.findings} & _UNPARSEABLE]
    tools = dict(zip(parseable, run_tools([prepared[i][0].text for i in parseable], timeout_s), strict=True))
    return [_result(info, arguments, findings, rules, tools.get(index))
            for index, (info, arguments, findings, rules) in enumerate(prepared)]


def _result(info: ScriptInfo, arguments: dict[str, str], findings: list[Finding], rules: CodeRules | None,
            tools: ToolResults | None) -> dict[str, Any]:
    if tools is not None:
        findings = findings + _tool_noise(tools.findings, rules)
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
        "tools": tools.status if tools is not None else {"pylint": "skipped", "bandit": "skipped"},
        "tool_versions": dict(versions),
        "rules_version": RULES_VERSION,
        "cache_key": cache_key(info.sha256, versions, RULES_VERSION),
    }


def analyse_script(info: ScriptInfo, default_arguments: Mapping[str, str], *, timeout_s: float,
                   context: JobContext | None = None) -> dict[str, Any]:
    """Findings (sorted, messages redacted), a summary and the cache key for one job script."""
    return analyse_scripts([ScriptJob(info, default_arguments, context)], timeout_s=timeout_s)[0]
