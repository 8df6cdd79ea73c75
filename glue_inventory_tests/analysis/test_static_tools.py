"""Real pylint and bandit subprocesses (no mocks): slow-ish, so each test runs the tools at most twice."""

import time

from glue_inventory.analysis.code_rules_common import SEVERITIES
from glue_inventory.analysis.static_tools import run_bandit, run_pylint, tool_versions

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


def _assert_schema(findings, source):
    for item in findings:
        assert set(item) == {"rule_id", "severity", "line", "message", "source"}
        assert item["severity"] in SEVERITIES
        assert item["source"] == source


def test_pylint_reports_errors_and_warnings_but_not_missing_glue_modules():
    findings = run_pylint(SCRIPT, timeout_s=120)
    _assert_schema(findings, "pylint")
    by_rule = {(f["rule_id"], f["line"]) for f in findings}
    assert ("pylint:W0611", 1) in by_rule  # unused `import os`
    assert ("pylint:E0602", 15) in by_rule  # undefined `rowz`
    assert ("pylint:W0613", 14) in by_rule  # unused argument `rows`
    assert not any(f["rule_id"] in ("pylint:E0401", "pylint:E0611") for f in findings)
    assert not any(f["rule_id"].startswith(("pylint:C", "pylint:R")) for f in findings)
    severities = {f["rule_id"][7]: f["severity"] for f in findings}
    assert severities == {"E": "high", "W": "low"}


def test_bandit_reports_with_its_own_severity():
    findings = run_bandit(SCRIPT + 'import subprocess\nsubprocess.call("ls " + sys.argv[1], shell=True)\n',
                          timeout_s=120)
    _assert_schema(findings, "bandit")
    by_rule = {f["rule_id"]: f for f in findings}
    assert by_rule["bandit:B105"]["line"] == 11
    assert by_rule["bandit:B602"]["severity"] == "high"
    assert "shell=True" in by_rule["bandit:B602"]["message"]


def test_tool_timeout_is_a_finding_and_the_run_completes():
    start = time.monotonic()
    findings = run_pylint(SCRIPT, timeout_s=0.05)
    assert time.monotonic() - start < 10
    assert findings == [{
        "rule_id": "tool-timeout", "severity": "info", "line": None, "source": "pylint",
        "message": "pylint did not finish within 0.05 s and was stopped; its findings are missing.",
    }]


def test_bandit_parse_failure_is_a_tool_error():
    findings = run_bandit("def broken(:\n    pass\n", timeout_s=120)
    assert [(f["rule_id"], f["source"]) for f in findings] == [("tool-error", "bandit")]


def test_tool_versions_identify_the_tools():
    versions = tool_versions()
    assert {"python", "pylint", "astroid", "bandit", "detect-secrets", "options"} <= set(versions)
    assert all(value and value != "missing" for value in versions.values())
