import hashlib
import io
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glue_inventory.analysis.code.analysis import analyse_script, cache_key
from glue_inventory.analysis.code.rules import RULES_VERSION
from glue_inventory.analysis.code.script import ScriptInfo, inspect_script
from glue_inventory.analysis.code.static_tools import tool_versions

SCRIPTS = Path(__file__).parent / "scripts"
MIB = 1 << 20
GLUE_ARGUMENTS = {
    "--TempDir": "s3://aws-glue-temporary-123456789012-us-east-1/admin/",
    "--enable-metrics": "true",
    "--job-language": "python",
    "--job-bookmark-option": "job-bookmark-enable",
}

LEAKY = b"""\
import sys
import psycopg2
from awsglue.utils import getResolvedOptions

args = getResolvedOptions(sys.argv, ["JOB_NAME", "db_password"])
print("password is", args["db_password"])
conn = psycopg2.connect("db.internal", "etl", "hunter2")
api_key = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
query = f"SELECT * FROM orders WHERE day = '{sys.argv[1]}'"
conn.cursor().execute(query)
# old: url = "postgresql://etl:hunter2@db.internal/sales"
"""


def inspect(data: bytes, location: str = "s3://bucket/scripts/job.py", **kwargs) -> ScriptInfo:
    return inspect_script(data, location=location, max_bytes=kwargs.pop("max_bytes", MIB), **kwargs)


@pytest.mark.parametrize("path", sorted(SCRIPTS.glob("clean_*.py")), ids=lambda p: p.stem)
def test_clean_glue_scripts_produce_no_findings(path):
    info = inspect(path.read_bytes(), location=f"s3://bucket/scripts/{path.name}")
    assert info.kind == "python" and info.text == path.read_text()
    result = analyse_script(info, GLUE_ARGUMENTS, timeout_s=120)
    assert result["tools"] == {"pylint": "ran", "bandit": "ran"}
    assert result["findings"] == []
    assert result["summary"]["total"] == 0 and result["summary"]["highest_severity"] is None


def test_leaky_script_end_to_end_never_exposes_a_secret():
    arguments = {**GLUE_ARGUMENTS, "--db_password": "Sup3r-S3cret!"}
    info = inspect(LEAKY, known_secrets=["Sup3r-S3cret!"])
    assert info.sha256 == hashlib.sha256(LEAKY).hexdigest()
    assert "hunter2" not in info.text and "sk_live_4eC39HqLyjWDarjtT1zdp7dc" not in info.text
    assert info.text.count("\n") == LEAKY.decode().count("\n")
    result = analyse_script(info, arguments, timeout_s=120)
    rules = {(f["rule_id"], f["line"]) for f in result["findings"]}
    assert {
        ("secret-argument-logged", 6), ("hardcoded-credentials", 7), ("hardcoded-credentials", 8),
        ("sql-from-strings", 10), ("secret-in-script", 11), ("secret-in-arguments", None),
    } <= rules
    assert ("secret-in-script", 7) not in rules  # the AST finding on that line says it better
    argument = next(f for f in result["findings"] if f["rule_id"] == "secret-in-arguments")
    assert argument["argument"] == "--db_password" and argument["source"] == "arguments"
    assert {f["source"] for f in result["findings"]} >= {"ast", "script", "arguments"}
    # bandit's B608 (formatted SQL) is left to sql-from-strings, which knows where the values come from.
    assert result["tools"] == {"pylint": "ran", "bandit": "ran"}
    assert not any(f["rule_id"] == "bandit:B608" for f in result["findings"])
    dump = repr(result)
    for secret in ("hunter2", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "Sup3r-S3cret!"):
        assert secret not in dump
    assert result["findings"] == sorted(
        result["findings"], key=lambda f: (f["line"] or 0, ["critical", "high", "medium", "low", "info"].index(
            f["severity"]), f["source"], f["rule_id"], f["message"])
    )
    assert result["summary"]["total"] == len(result["findings"])
    assert sum(result["summary"]["by_severity"].values()) == len(result["findings"])


def test_analysis_is_deterministic_and_keyed_by_content():
    info = inspect(LEAKY)
    first = analyse_script(info, GLUE_ARGUMENTS, timeout_s=120)
    second = analyse_script(info, GLUE_ARGUMENTS, timeout_s=120)
    assert first == second
    assert first["cache_key"] == cache_key(info.sha256, tool_versions(), RULES_VERSION)
    assert cache_key(info.sha256, tool_versions(), "other") != first["cache_key"]


def test_script_over_the_size_limit_is_a_finding():
    data = b"x = 1\n" * (5 * MIB // 6 + 1)
    info = inspect(data)
    assert info.kind == "too_large" and info.text == "" and info.size_bytes == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    result = analyse_script(info, {}, timeout_s=5)
    assert [f["rule_id"] for f in result["findings"]] == ["script-too-large"]


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("job.py", "print('hi')\n")
    return buffer.getvalue()


@pytest.mark.parametrize("data", [b"import os\x00\x00\x01\x02", _zip_bytes(), b"\x1f\x8b\x08\x00gzip"],
                         ids=["nul", "zip", "gzip"])
def test_binary_scripts_are_findings(data):
    info = inspect(data)
    assert info.kind == "binary" and info.text == ""
    result = analyse_script(info, {}, timeout_s=5)
    assert [f["rule_id"] for f in result["findings"]] == ["script-binary"]
    assert result["tools"] == {"pylint": "skipped", "bandit": "skipped"}


def test_empty_script_is_a_finding():
    info = inspect(b"  \n\n")
    assert info.kind == "empty"
    assert [f["rule_id"] for f in analyse_script(info, {}, timeout_s=5)["findings"]] == ["script-empty"]


def test_non_utf8_script_is_read_as_latin1_and_still_analysed():
    data = "# caf\xe9 au lait\nrows = spark.table('t').collect()\n".encode("latin-1")
    info = inspect(data)
    assert info.kind == "python" and info.encoding == "latin-1" and "café" in info.text
    result = analyse_script(info, {}, timeout_s=120)
    rules = [(f["rule_id"], f["line"]) for f in result["findings"] if f["source"] in ("script", "ast")]
    assert rules == [("script-not-utf8", 1), ("collect-on-large-data", 2)]


@pytest.mark.parametrize(
    ("location", "arguments"),
    [("s3://b/scripts/Job.scala", {}), ("s3://b/scripts/job", {"--job-language": "scala"})],
)
def test_scala_scripts_are_not_analysed_but_checked_for_secrets(location, arguments):
    data = b'object Job { val password = "hunter2"\n def main(a: Array[String]) = {} }\n'
    info = inspect(data, location=location, job_language=arguments.get("--job-language"))
    assert info.kind == "scala" and "hunter2" not in info.text
    result = analyse_script(info, arguments, timeout_s=5)
    assert [f["rule_id"] for f in result["findings"]] == ["scala-not-analysed", "secret-in-script"]
    assert result["tools"] == {"pylint": "skipped", "bandit": "skipped"}


def test_python2_script_is_a_finding_and_tools_are_skipped():
    data = b'import sys\n\ndef main():\n    print "hello", sys.argv\n\nmain()\n'
    result = analyse_script(inspect(data), {}, timeout_s=120)
    assert [(f["rule_id"], f["line"]) for f in result["findings"]] == [("python2-syntax", 4)]
    assert result["tools"] == {"pylint": "skipped", "bandit": "skipped"}


def test_deeply_nested_expression_does_not_crash():
    data = ("x = " + "(" * 1000 + "1" + ")" * 1000 + "\n").encode()
    result = analyse_script(inspect(data), {}, timeout_s=30)
    assert [f["rule_id"] for f in result["findings"]] == ["too-deeply-nested"]


def test_hundred_thousand_line_script_in_bounded_time():
    data = "".join(f"value_{i} = compute({i})\n" for i in range(100_000)).encode()
    start = time.monotonic()
    info = inspect(data, max_bytes=8 * MIB)
    result = analyse_script(info, {}, timeout_s=3)
    assert time.monotonic() - start < 90
    assert {f["rule_id"] for f in result["findings"]} <= {"tool-timeout", "pylint:E0602", "findings-truncated"}


def test_pylint_timeout_is_a_finding_and_analysis_completes():
    info = inspect((SCRIPTS / "clean_spark_sql.py").read_bytes())
    result = analyse_script(info, {}, timeout_s=0.05)
    assert result["tools"] == {"pylint": "timeout", "bandit": "timeout"}
    timeouts = [f for f in result["findings"] if f["rule_id"] == "tool-timeout"]
    assert sorted(f["source"] for f in timeouts) == ["bandit", "pylint"]
    assert all(f["severity"] == "info" and "0.05 s" in f["message"] for f in timeouts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300), arguments=st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=4))
def test_analyse_script_never_raises_on_arbitrary_text(text, arguments):
    info = inspect(text.encode("utf-8", "surrogatepass"))
    result = analyse_script(info, arguments, timeout_s=0.01)
    assert result["summary"]["total"] == len(result["findings"])
