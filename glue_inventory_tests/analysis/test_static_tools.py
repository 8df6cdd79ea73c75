"""Real pylint and bandit subprocesses (no mocks), one batch of scripts per run as the analysis runs them."""

import time

import pytest

from glue_inventory.analysis.code.static_tools import run_tools, tool_versions
from glue_inventory.analysis.findings import SEVERITIES

SCRIPT = """\
import os
import sys

from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME"])
glueContext = GlueContext(SparkContext.getOrCreate())
password = "***REDACTED***"


def total(rows):
    return sum(row.amount for row in rowz)


print(total([]), F.col("x"), args, password)
"""


SHELL = 'import subprocess\nsubprocess.call("ls " + sys.argv[1], shell=True)\n'
SECRET_NAME = 'import boto3\nsecret = "prod/glue/warehouse"\n'


def _assert_schema(findings):
    for item in findings:
        assert set(item) == {"rule_id", "severity", "line", "message", "source"}
        assert item["severity"] in SEVERITIES
        assert item["source"] in ("pylint", "bandit")


@pytest.fixture(scope="module")
def batch():
    """One batch of four scripts: both tools start once, and every script gets its own findings."""
    return run_tools([SCRIPT, SCRIPT + SHELL, "def broken(:\n    pass\n", SECRET_NAME], timeout_s=120)


def test_pylint_reports_errors_and_warnings_but_not_missing_glue_modules(batch):
    findings = [f for f in batch[0].findings if f["source"] == "pylint"]
    _assert_schema(findings)
    by_rule = {(f["rule_id"], f["line"]) for f in findings}
    assert ("pylint:W0611", 1) in by_rule  # unused `import os`
    assert ("pylint:E0602", 15) in by_rule  # undefined `rowz`
    assert ("pylint:W0613", 14) in by_rule  # unused argument `rows`
    assert not any(f["rule_id"] in ("pylint:E0401", "pylint:E0611") for f in findings)
    assert not any(f["rule_id"].startswith(("pylint:C", "pylint:R")) for f in findings)
    severities = {f["rule_id"][7]: f["severity"] for f in findings}
    assert severities == {"E": "high", "W": "low"}
    assert batch[0].status == {"pylint": "ran", "bandit": "ran"}


def test_bandit_reports_with_its_own_severity_per_script(batch):
    first = {f["rule_id"] for f in batch[0].findings if f["source"] == "bandit"}
    by_rule = {f["rule_id"]: f for f in batch[1].findings if f["source"] == "bandit"}
    _assert_schema(by_rule.values())
    assert by_rule["bandit:B105"]["line"] == 11
    assert by_rule["bandit:B602"]["severity"] == "high"
    assert "shell=True" in by_rule["bandit:B602"]["message"]
    assert "bandit:B602" not in first  # the shell call is in the second script only
    assert {f["rule_id"] for f in batch[3].findings if f["source"] == "bandit"} == {"bandit:B105"}  # AST drops it


def test_a_script_the_tools_cannot_parse_is_a_tool_error_of_that_script_only(batch):
    assert [(f["rule_id"], f["source"]) for f in batch[2].findings if f["source"] == "bandit"] == [
        ("tool-error", "bandit")]
    assert batch[2].status["bandit"] == "error"
    assert all(result.status["bandit"] == "ran" for result in (batch[0], batch[1], batch[3]))


def test_tool_timeout_is_a_finding_of_each_script_and_the_run_completes():
    start = time.monotonic()
    results = run_tools([SCRIPT, SCRIPT + SHELL, SECRET_NAME], timeout_s=0.05)
    assert time.monotonic() - start < 20
    for result in results:
        assert result.status == {"pylint": "timeout", "bandit": "timeout"}
        assert sorted(result.findings, key=lambda f: f["source"]) == [
            {"rule_id": "tool-timeout", "severity": "info", "line": None, "source": tool,
             "message": f"{tool} did not finish within 0.05 s and was stopped; its findings are missing."}
            for tool in ("bandit", "pylint")
        ]


def test_tool_versions_identify_the_tools():
    versions = tool_versions()
    assert {"python", "pylint", "astroid", "bandit", "detect-secrets", "options"} <= set(versions)
    assert all(value and value != "missing" for value in versions.values())
