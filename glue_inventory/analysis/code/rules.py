"""AST rules over a job script: parse it (never import or run it) and apply every rule.

A script that does not parse is a finding (`python2-syntax` or `syntax-error`), and so is one
nested too deeply for the parser; nothing here raises on hostile input.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from glue_inventory.analysis.code.model import ScriptModel
from glue_inventory.analysis.code.rules_bookmarks import (
    bookmarks_without_job,
    job_init_commit,
    source_without_context,
    spark_native_read,
)
from glue_inventory.analysis.code.rules_driver import spark_without_spark_work
from glue_inventory.analysis.code.rules_plan import streaming_batch_work, withcolumn_in_loop
from glue_inventory.analysis.code.rules_security import (
    bare_except,
    hardcoded_credentials,
    runtime_code_execution,
    secret_argument_logged,
    sql_from_strings,
)
from glue_inventory.analysis.code.rules_spark import (
    cache_not_released,
    collect_on_large_data,
    python_udf,
    single_partition_write,
    write_errorifexists,
)
from glue_inventory.analysis.code.secret_names import secret_name_literals
from glue_inventory.analysis.findings import Finding, JobContext, finding, sort_key

# Bump when a rule changes, so cached analyses of unchanged scripts are recomputed.
RULES_VERSION = "3"

RULE_IDS = (
    "collect-on-large-data", "single-partition-write", "job-init-without-commit", "job-commit-without-init",
    "bookmark-source-without-ctx", "bookmark-spark-native-read", "bookmark-without-job-init",
    "withcolumn-in-loop", "streaming-batch-work", "spark-job-without-spark-work",
    "hardcoded-credentials", "sql-from-strings", "secret-argument-logged", "runtime-code-execution",
    "bare-except", "python-udf", "cache-not-released", "write-errorifexists", "python2-syntax",
    "syntax-error", "too-deeply-nested", "rule-error",
)

# Hand-written Glue scripts stay far below this; deeper trees come from generated or hostile code
# and make pylint and astroid recurse until they fail.
MAX_NESTING_DEPTH = 100

RULES: tuple[Callable[[ScriptModel], list[Finding]], ...] = (
    collect_on_large_data, single_partition_write, job_init_commit, source_without_context, spark_native_read,
    bookmarks_without_job, withcolumn_in_loop, streaming_batch_work, spark_without_spark_work,
    hardcoded_credentials, sql_from_strings, secret_argument_logged, runtime_code_execution, bare_except,
    python_udf, cache_not_released, write_errorifexists,
)

_PYTHON2_MARKERS = (
    (re.compile(r"^\s*print\s+(?![\s(=.,)\[]|$)"), "print statement"),
    (re.compile(r"^\s*print\s*>>"), "print >> redirection"),
    (re.compile(r"^\s*except\s+[\w.]+\s*,\s*\w+\s*:"), "`except X, e:`"),
    (re.compile(r"^\s*raise\s+[\w.]+\s*,\s*\S"), "`raise E, value`"),
    (re.compile(r"`[^`\n]+`"), "backticks"),
    (re.compile(r"\b[uU][rR]['\"]"), "ur'' literal"),
    (re.compile(r"^\s*exec\s+['\"\w]"), "exec statement"),
    (re.compile(r"(?<![\w.])\d+[lL]\b"), "long integer suffix"),
    (re.compile(r"(?<![\w.])0[0-7]+\b"), "old octal literal"),
    (re.compile(r"<>"), "`<>` operator"),
)


def _python2_markers(text: str) -> list[tuple[int, str]]:
    markers = []
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("#", 1)[0]
        for pattern, label in _PYTHON2_MARKERS:
            if pattern.search(code):
                markers.append((number, label))
                break
    return markers


def _syntax_findings(text: str, error: SyntaxError) -> list[Finding]:
    line = error.lineno or None
    markers = _python2_markers(text)
    if markers:
        where = ", ".join(f"{label} on line {number}" for number, label in markers[:3])
        return [finding(
            "python2-syntax", "high", line,
            f"Script is Python 2 ({where}) and does not parse as Python 3 (line {line}: {error.msg}); "
            "current Glue versions run Python 3 only, so port it (2to3 is a start).",
            "ast",
        )]
    return [finding(
        "syntax-error", "high", line,
        f"Script does not parse as Python 3 (line {line}: {error.msg}); the job fails before doing any work.",
        "ast",
    )]


def _too_deep(line: int | None, detail: str) -> Finding:
    return finding(
        "too-deeply-nested", "low", line,
        f"Code is nested too deeply to analyse fully ({detail}); split the expression up.",
        "ast",
    )


def parse_script(text: str) -> tuple[ast.Module | None, list[Finding]]:
    """The module's AST, or None and the finding that explains why it could not be parsed."""
    try:
        with warnings.catch_warnings():
            # Invalid escape sequences and the like are style issues, not parse failures.
            warnings.simplefilter("ignore")
            tree = ast.parse(text, type_comments=False)
    except (RecursionError, MemoryError):
        return None, [_too_deep(None, "the parser ran out of stack")]
    except SyntaxError as error:
        if "too many nested" in str(error.msg):
            return None, [_too_deep(error.lineno, str(error.msg))]
        return None, _syntax_findings(text, error)
    except ValueError as error:
        return None, [finding("syntax-error", "high", None, f"Script cannot be parsed: {error}", "ast")]
    return tree, []


# A finding that says more about a line than another rule's: inside a streaming callback, a collect()
# or a coalesce(1) is reported once, as the micro-batch problem it is.
_SUBSUMES = {"streaming-batch-work": {"collect-on-large-data", "single-partition-write"}}


def _without_subsumed(findings: list[Finding]) -> list[Finding]:
    covered = {(rule, item["line"]) for item in findings for rule in _SUBSUMES.get(item["rule_id"], ())}
    return [item for item in findings if (item["rule_id"], item["line"]) not in covered]


@dataclass(frozen=True)
class CodeRules:
    """The rules' findings for one script, and the lines holding provable secret names (for the tools' filter)."""

    findings: list[Finding]
    secret_name_lines: frozenset[int] = frozenset()
    star_imports: frozenset[str] = frozenset()  # modules the script imports `*` from


def check_script(text: str, context: JobContext | None = None) -> CodeRules:
    """Every AST rule over one script, with what the job's definition says (`context`); sorted findings."""
    tree, findings = parse_script(text)
    if tree is None:
        return CodeRules(findings)
    model = ScriptModel.build(tree, context)
    if model.max_depth > MAX_NESTING_DEPTH:
        findings.append(_too_deep(None, f"depth {model.max_depth}, over {MAX_NESTING_DEPTH}"))
    for rule in RULES:
        try:
            findings.extend(rule(model))
        # One rule tripping over an odd construct must not lose the other rules' findings.
        except Exception as error:  # noqa: BLE001
            findings.append(finding(
                "rule-error", "info", None,
                f"Rule {rule.__name__} failed on this script ({type(error).__name__}).", "ast",
            ))
    findings = _without_subsumed(findings)
    try:
        names = frozenset(constant.lineno for constant in secret_name_literals(model))
    except RecursionError:
        names = frozenset()
    return CodeRules(sorted(findings, key=sort_key), names, frozenset(model.star_imports))


def run_code_rules(text: str, context: JobContext | None = None) -> list[Finding]:
    """Findings of every AST rule for one script, sorted; parse failures are findings too."""
    return check_script(text, context).findings
