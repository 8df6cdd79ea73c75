"""pylint and bandit over (already redacted) scripts: each tool runs once per batch of scripts, in its own
process with a time limit, and its findings are handed back per script."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from glue_inventory.analysis.code.secrets import redact_text
from glue_inventory.analysis.findings import Finding, finding, sort_key

# A batch of n scripts may run for the per-script limit plus this share of it for each further script.
BATCH_SHARE = 0.05

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
# B101 (assert) matters in libraries run with -O, not in job scripts. B608 (SQL built with formatting)
# flags constant SQL too: the AST rule sql-from-strings reports where job arguments reach SQL text.
# --ignore-nosec: a script under review must not be able to silence the reviewer.
BANDIT_ARGS = ("-f", "json", "-q", "-s", "B101,B608", "--ignore-nosec")

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


def _timeout(tool: str, timeout_s: float) -> Finding:
    return finding(
        "tool-timeout", "info", None,
        f"{tool} did not finish within {timeout_s:g} s and was stopped; its findings are missing.", tool,
    )


def _tool_error(tool: str, detail: str) -> Finding:
    lines = [line for line in detail.strip().splitlines() if line.strip()]
    summary = lines[-1] if lines else "no output"
    return finding("tool-error", "info", None, f"{tool} failed: {redact_text(summary)}", tool)


def _pylint_findings(run: _ToolRun, names: list[str]) -> dict[str, list[Finding]] | None:
    """pylint errors (high) and warnings (low) per script; None when the output cannot be attributed."""
    try:
        messages: list[dict[str, Any]] = json.loads(run.stdout or "[]")
    except json.JSONDecodeError:
        return None
    crashed = any(marker in run.stderr for marker in _CRASH_MARKERS)
    if crashed and len(names) > 1:
        return None  # split the batch to find the script that crashed it
    found: dict[str, list[Finding]] = {name: [] for name in names}
    for message in messages:
        name = Path(str(message.get("path", ""))).name
        kind = message.get("type", "")
        if name not in found:
            continue
        if kind == "fatal":
            found[name].append(_tool_error("pylint", f"{message.get('symbol')}: {message.get('message', '')}"))
            continue
        severity = _PYLINT_SEVERITY.get(kind)
        if severity is not None:
            found[name].append(finding(
                f"pylint:{message.get('message-id', '?')}", severity, message.get("line") or None,
                redact_text(f"{message.get('symbol', '')}: {message.get('message', '')}"), "pylint",
            ))
    if crashed:
        found[names[0]].append(_tool_error("pylint", run.stderr))
    return found


def _bandit_findings(run: _ToolRun, names: list[str]) -> dict[str, list[Finding]] | None:
    """bandit results per script with bandit's own severity; a script it cannot parse gets a tool error."""
    try:
        report: dict[str, Any] = json.loads(run.stdout)
    except json.JSONDecodeError:
        return None
    found: dict[str, list[Finding]] = {name: [] for name in names}
    for result in report.get("results", []):
        name = Path(str(result.get("filename", ""))).name
        if name in found:
            found[name].append(finding(
                f"bandit:{result.get('test_id', '?')}",
                _BANDIT_SEVERITY.get(result.get("issue_severity", ""), "low"), result.get("line_number") or None,
                redact_text(f"{result.get('test_name', '')}: {result.get('issue_text', '')} "
                            f"(confidence {str(result.get('issue_confidence', '')).lower()})"),
                "bandit",
            ))
    for error in report.get("errors", []):
        name = Path(str(error.get("filename", ""))).name
        if name in found:
            found[name].append(_tool_error("bandit", str(error.get("reason", error))))
    return found


@dataclass(frozen=True)
class _Tool:
    module: str
    args: tuple[str, ...]
    parse: Callable[[_ToolRun, list[str]], dict[str, list[Finding]] | None]


_PYLINT = _Tool("pylint", (*PYLINT_ARGS, "--rcfile=pylintrc"), _pylint_findings)
_BANDIT = _Tool("bandit", BANDIT_ARGS, _bandit_findings)


def _batch(tool: _Tool, names: list[str], workdir: Path, timeout_s: float) -> dict[str, list[Finding]]:
    """One process of `tool` over the scripts `names`; a batch that times out or crashes is split in halves
    until each script has run alone under the per-script limit."""
    budget = timeout_s * (1 + BATCH_SHARE * (len(names) - 1))
    run = _run(tool.module, [*tool.args, *names], workdir, budget)
    parsed = None if run.timed_out else tool.parse(run, names)
    if parsed is not None:
        return parsed
    if len(names) > 1:
        half = len(names) // 2
        return _batch(tool, names[:half], workdir, timeout_s) | _batch(tool, names[half:], workdir, timeout_s)
    problem = _timeout(tool.module, timeout_s) if run.timed_out else _tool_error(tool.module, run.stderr or run.stdout)
    return {names[0]: [problem]}


@dataclass(frozen=True)
class ToolResults:
    """pylint's and bandit's findings for one script (sorted), and how each tool ended: ran, timeout or error."""

    findings: list[Finding]
    status: dict[str, str]


def _status(findings: list[Finding]) -> str:
    problems = {item["rule_id"] for item in findings}
    return "timeout" if "tool-timeout" in problems else "error" if "tool-error" in problems else "ran"


def run_tools(texts: Sequence[str], timeout_s: float, workers: int | None = None) -> list[ToolResults]:
    """pylint and bandit over (already redacted) scripts, in as few processes as there are cores: each tool
    starts once per batch instead of once per script. Results stay per script, in the order of `texts`;
    `timeout_s` is the limit of one script (a batch gets a share of it per further script)."""
    if not texts:
        return []
    with tempfile.TemporaryDirectory(prefix="glue_inventory_") as tmp:
        workdir = Path(tmp)
        names = [f"script_{index:05d}.py" for index in range(len(texts))]
        for name, text in zip(names, texts, strict=True):
            (workdir / name).write_text(text, encoding="utf-8")
        # An empty rcfile so no user or project configuration changes the result.
        (workdir / "pylintrc").write_text("", encoding="utf-8")
        processes = max(1, min(workers or os.cpu_count() or 1, len(names)))
        chunks = [names[index::processes] for index in range(processes)]
        with ThreadPoolExecutor(max_workers=processes + 1) as pool:
            pylint_runs = [pool.submit(_batch, _PYLINT, chunk, workdir, timeout_s) for chunk in chunks]
            bandit_run = pool.submit(_batch, _BANDIT, names, workdir, timeout_s)
            pylint = {name: found for run in pylint_runs for name, found in run.result().items()}
            bandit = bandit_run.result()
    return [
        ToolResults(sorted(pylint[name] + bandit[name], key=sort_key),
                    {"pylint": _status(pylint[name]), "bandit": _status(bandit[name])})
        for name in names
    ]


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
