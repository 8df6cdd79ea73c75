"""pylint and bandit over one (already redacted) script, each in its own process with a time limit."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from glue_inventory.analysis.code_rules_common import Finding, finding, sort_key
from glue_inventory.analysis.secrets import redact_text

SCRIPT_NAME = "job_script.py"

# Convention and refactor messages are style noise for a fleet inventory. import-error and
# no-name-in-module: awsglue/pyspark are not installed here (they live on the Glue workers).
# bare-except, eval-used, exec-used: the AST rules report these with Glue-specific advice.
PYLINT_DISABLED = (
    "C", "R", "I", "import-error", "no-name-in-module", "fixme", "bare-except", "eval-used", "exec-used",
    "syntax-error", "wildcard-import", "unused-wildcard-import",
)
# Inferring into these big, dynamic libraries costs seconds per script (boto3 alone ~3 s) and only
# yields no-member noise: their clients and DataFrames are built at run time.
PYLINT_IGNORED_MODULES = (
    "boto3", "botocore", "requests", "pandas", "numpy", "pyarrow", "pyspark", "awsglue", "s3fs", "sqlalchemy",
)
PYLINT_ARGS = (
    "--output-format=json", "--score=n", "--reports=n", "--persistent=n", "--jobs=1",
    f"--disable={','.join(PYLINT_DISABLED)}", f"--ignored-modules={','.join(PYLINT_IGNORED_MODULES)}",
)
# B101 (assert) matters in libraries run with -O, not in job scripts.
# --ignore-nosec: a script under review must not be able to silence the reviewer.
BANDIT_ARGS = ("-f", "json", "-q", "-s", "B101", "--ignore-nosec")

_PYLINT_SEVERITY = {"error": "high", "warning": "low"}
_BANDIT_SEVERITY = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
_CRASH_MARKERS = ("Traceback (most recent call last)", "RecursionError", "Fatal Python error", "crashed")


@dataclass(frozen=True)
class _ToolRun:
    stdout: str
    stderr: str
    returncode: int | None
    timed_out: bool


def _run(tool: str, args: list[str], workdir: Path, timeout_s: float) -> _ToolRun:
    env = {**os.environ, "PYLINTHOME": str(workdir / ".pylint.d"), "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", tool, *args], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
        start_new_session=True,  # its own process group, so a timeout kills any children too
    )
    try:
        stdout, stderr = process.communicate(timeout=max(timeout_s, 0.001))
        return _ToolRun(stdout, stderr, process.returncode, False)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        return _ToolRun(stdout, stderr, process.returncode, True)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _tool_problem(tool: str, run: _ToolRun, timeout_s: float) -> Finding | None:
    if run.timed_out:
        return finding(
            "tool-timeout", "info", None,
            f"{tool} did not finish within {timeout_s:g} s and was stopped; its findings are missing.", tool,
        )
    return None


def _tool_error(tool: str, detail: str) -> Finding:
    lines = [line for line in detail.strip().splitlines() if line.strip()]
    summary = lines[-1] if lines else "no output"
    return finding("tool-error", "info", None, f"{tool} failed: {redact_text(summary)}", tool)


def _with_script(text: str, tool: str, args: list[str], timeout_s: float) -> _ToolRun:
    with tempfile.TemporaryDirectory(prefix="glue_inventory_") as tmp:
        workdir = Path(tmp)
        (workdir / SCRIPT_NAME).write_text(text, encoding="utf-8")
        # An empty rcfile so no user or project configuration changes the result.
        (workdir / "pylintrc").write_text("", encoding="utf-8")
        return _run(tool, args, workdir, timeout_s)


def run_pylint(text: str, timeout_s: float) -> list[Finding]:
    """pylint errors (high) and warnings (low) as findings; a timeout or crash is itself a finding."""
    run = _with_script(text, "pylint", [*PYLINT_ARGS, "--rcfile=pylintrc", SCRIPT_NAME], timeout_s)
    problem = _tool_problem("pylint", run, timeout_s)
    if problem:
        return [problem]
    try:
        messages: list[dict[str, Any]] = json.loads(run.stdout or "[]")
    except json.JSONDecodeError:
        return [_tool_error("pylint", run.stderr or run.stdout)]
    found = []
    for message in messages:
        kind = message.get("type", "")
        if kind == "fatal":
            found.append(_tool_error("pylint", f"{message.get('symbol')}: {message.get('message', '')}"))
            continue
        severity = _PYLINT_SEVERITY.get(kind)
        if severity is None:
            continue
        found.append(finding(
            f"pylint:{message.get('message-id', '?')}", severity, message.get("line") or None,
            redact_text(f"{message.get('symbol', '')}: {message.get('message', '')}"), "pylint",
        ))
    if any(marker in run.stderr for marker in _CRASH_MARKERS):
        found.append(_tool_error("pylint", run.stderr))
    return sorted(found, key=sort_key)


def run_bandit(text: str, timeout_s: float) -> list[Finding]:
    """bandit results with bandit's own severity; a timeout, crash or parse failure is itself a finding."""
    run = _with_script(text, "bandit", [*BANDIT_ARGS, SCRIPT_NAME], timeout_s)
    problem = _tool_problem("bandit", run, timeout_s)
    if problem:
        return [problem]
    try:
        report: dict[str, Any] = json.loads(run.stdout)
    except json.JSONDecodeError:
        return [_tool_error("bandit", run.stderr or run.stdout)]
    found = [
        finding(
            f"bandit:{result.get('test_id', '?')}", _BANDIT_SEVERITY.get(result.get("issue_severity", ""), "low"),
            result.get("line_number") or None,
            redact_text(f"{result.get('test_name', '')}: {result.get('issue_text', '')} "
                        f"(confidence {str(result.get('issue_confidence', '')).lower()})"),
            "bandit",
        )
        for result in report.get("results", [])
    ]
    found += [_tool_error("bandit", str(error.get("reason", error))) for error in report.get("errors", [])]
    return sorted(found, key=sort_key)


@cache
def tool_versions() -> dict[str, str]:
    """Versions and options that decide the tools' output: part of the analysis cache key."""
    versions = {"python": platform.python_version()}
    for package in ("pylint", "astroid", "bandit", "detect-secrets"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "missing"
    options = json.dumps([PYLINT_ARGS, BANDIT_ARGS])
    versions["options"] = hashlib.sha256(options.encode()).hexdigest()[:16]
    return versions
