"""Bad input: Glue helpers, the config loader and the script analysis take anything and answer clearly.

The Glue record parsers are fuzzed in `aws/test_parse.py` and the plain hostile scripts (1,000-deep
parentheses, 100k plain lines, NUL bytes, zip, latin-1) in `analysis/test_code_analysis.py`; this file
covers what they do not.
"""

from __future__ import annotations

import io
import math
import os
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glue_inventory.analysis.code.analysis import MAX_FINDINGS_PER_RULE, analyse_script
from glue_inventory.analysis.code.rules import run_code_rules
from glue_inventory.analysis.code.script import SCRIPT_KINDS, inspect_script
from glue_inventory.analysis.code.secrets import REDACTED
from glue_inventory.analysis.status import FINISHED_STATES
from glue_inventory.aws.errors import describe_error, error_code
from glue_inventory.aws.glue import GET_JOB_RUNS_PAGE, REFRESH_FIRST_PAGE, fetch_new_runs, job_arn, job_tags
from glue_inventory.aws.tagging import job_name_from_arn, tagged_jobs
from glue_inventory.config import ConfigError, Settings, load_settings
from glue_inventory.keys import encode_partition_key

MIB = 1 << 20
ACCOUNTS = st.from_regex(r"\A[0-9]{12}\Z")
REGIONS = st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"])
# Glue job names: 1–255 characters of any kind (the API only forbids some control characters).
JOB_NAMES = st.text(min_size=1, max_size=255)


# --- aws/glue.py helpers --------------------------------------------------------------------------------------

@given(account=ACCOUNTS, region=REGIONS, name=JOB_NAMES, partition=st.sampled_from(["aws", "aws-cn", "aws-us-gov"]))
def test_job_arn_round_trips_every_name(account, region, name, partition):
    assert job_name_from_arn(job_arn(account, region, name, partition)) == name


@given(st.text(max_size=200))
def test_job_name_from_arn_never_raises(text):
    name = job_name_from_arn(text)
    assert name is None if ":job/" not in text else isinstance(name, str)


@given(name=JOB_NAMES)
def test_partition_keys_survive_the_cli_range_syntax(name):
    """`dagster asset materialize --partition-range START...END` splits on "..." (docs/pipeline.md)."""
    key = encode_partition_key("123456789012", "us-east-1", name)
    assert f"{key}...{key}".split("...") == [key, key]


@pytest.mark.parametrize("name", ["..", "etl_v1.", "report.v2."])
def test_keys_of_names_ending_in_a_dot_survive_the_cli_range_syntax(name):
    key = encode_partition_key("123456789012", "us-east-1", name)
    assert f"{key}...{key}".split("...") == [key, key]


@pytest.mark.parametrize("arn", [
    "arn:aws:glue:us-east-1:123456789012:trigger/nightly", "arn:aws:glue:us-east-1:123456789012:crawler/job",
    "arn:aws:s3:::bucket/job/x", "", "job/", "not an arn",
])
def test_arns_of_other_resources_are_not_jobs(arn):
    assert job_name_from_arn(arn) is None


@given(code=st.text(max_size=40), message=st.text(max_size=200), extra=st.dictionaries(st.text(max_size=10),
                                                                                         st.text(max_size=10)))
def test_client_errors_are_described_whatever_aws_says(code, message, extra):
    error = ClientError({"Error": {"Code": code, "Message": message, **extra}}, "GetJobRuns")
    assert error_code(error) == code
    assert describe_error(error).startswith(code or "ClientError")


FINISHED = sorted(FINISHED_STATES)
UNFINISHED = ["STARTING", "RUNNING", "STOPPING", "WAITING"]


class RecordedGlue:
    """GetJobRuns answered from a recorded listing, `page` runs at a time (AWS may return fewer than asked)."""

    def __init__(self, runs: list[dict], page: int) -> None:
        self.runs, self.page, self.calls = runs, page, 0
        self.asked: list[int] = []

    def get_job_runs(self, JobName: str, MaxResults: int, NextToken: str | None = None) -> dict:  # noqa: N803
        self.calls += 1
        self.asked.append(MaxResults)
        start = int(NextToken or 0)
        end = start + min(self.page, MaxResults)
        return {"JobRuns": self.runs[start:end], **({"NextToken": str(end)} if end < len(self.runs) else {})}


@st.composite
def run_histories(draw):
    """A job's runs now (newest first), what an earlier complete fetch stored, and Glue's listing today."""
    count = draw(st.integers(0, 40))
    gaps = draw(st.lists(st.integers(1, 90_000), min_size=count, max_size=count))
    now = datetime(2026, 6, 1, tzinfo=UTC)
    # A settled history (every run finished, none was running at the last fetch) is where stopping early pays.
    settled = draw(st.booleans())
    states = st.sampled_from(FINISHED if settled else FINISHED + UNFINISHED)
    # As Glue sends them (epoch seconds, aws/responses.py AS_SENT), or as recorded (datetimes).
    as_sent = draw(st.booleans())
    started = [now - timedelta(seconds=sum(gaps[:index + 1])) for index in range(count)]
    runs = [{"Id": f"jr_{index:04d}", "JobRunState": draw(states),
             "StartedOn": started[index].timestamp() if as_sent else started[index]} for index in range(count)]
    # The earlier fetch saw the runs older than `cut`; some then still running have finished since.
    cut = draw(st.integers(0, count))
    stored = {}
    for run in runs[cut:]:
        state = run["JobRunState"]
        was_running = not settled and state in FINISHED_STATES and draw(st.booleans())
        stored[run["Id"]] = draw(st.sampled_from(UNFINISHED)) if was_running else state
    # Glue's retention has since dropped the oldest runs from the listing; we still hold them.
    expired = draw(st.integers(0, count - cut))
    listing = runs[:count - expired]
    newest_first = draw(st.booleans())
    page = draw(st.integers(1, 7))
    return listing, stored, page, newest_first


@settings(max_examples=300, deadline=None)
@given(run_histories(), st.booleans())
def test_incremental_fetch_never_misses_a_new_or_changed_run(history, history_complete):
    listing, stored, page, newest_first = history
    served = listing if newest_first else listing[::-1]  # moto lists oldest first
    glue = RecordedGlue(served, page)
    fetch = fetch_new_runs(glue, "job", stored, history_complete)
    changed = {run["Id"]: run["JobRunState"] for run in fetch.changed}
    after = {**stored, **changed}
    assert all(after[run["Id"]] == run["JobRunState"] for run in listing), "a new or changed run was skipped"
    assert not [r for r in fetch.changed if stored.get(r["Id"]) == r["JobRunState"] in FINISHED_STATES]
    assert fetch.pages == glue.calls <= max(1, math.ceil(len(served) / page))
    if not history_complete or not newest_first:
        assert fetch.complete and fetch.seen == len(served)


def test_an_oldest_first_listing_with_one_run_per_page_is_read_to_the_end():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    oldest_first = [{"Id": "old", "JobRunState": "SUCCEEDED", "StartedOn": now - timedelta(days=1)},
                    {"Id": "new", "JobRunState": "SUCCEEDED", "StartedOn": now}]
    fetch = fetch_new_runs(RecordedGlue(oldest_first, 1), "job", {"old": "SUCCEEDED"}, history_complete=True)
    assert [run["Id"] for run in fetch.changed] == ["new"]


@pytest.mark.parametrize(("page", "match"), [
    ({"JobRuns": {"Id": "jr_1"}}, "JobRuns: expected a list, got dict"),
    ({"JobRuns": [None]}, r"JobRuns\[\]: expected an object, got NoneType"),
    ({"JobRuns": [{"Id": "jr_1", "JobRunState": "SUCCEEDED", "StartedOn": "yesterday"}]},
     "JobRun 'jr_1'.StartedOn: not an ISO-8601 date or epoch number"),
])
def test_a_malformed_run_history_page_is_refused_naming_the_field(page, match):
    """A page comes as Glue sent it, unchecked by botocore's model: what fetch_new_runs reads is checked there
    (the refusal is recorded as the job's error, aws.parse checks the runs it keeps)."""

    class Answer:
        def get_job_runs(self, **_params) -> dict:
            return page

    with pytest.raises(ValueError, match=match):
        fetch_new_runs(Answer(), "job", {}, history_complete=False)


def test_a_page_with_null_runs_or_token_is_the_end_of_the_history():
    glue = RecordedGlue([], 1)
    glue.get_job_runs = lambda **_params: {"JobRuns": None, "NextToken": None}
    fetch = fetch_new_runs(glue, "job", {}, history_complete=False)
    assert fetch.complete and fetch.changed == [] and fetch.seen == 0


def test_a_refresh_asks_for_a_short_first_page_then_full_pages():
    """A job whose whole history is stored: its first page asks for REFRESH_FIRST_PAGE runs (a refresh mostly
    finds a few new ones), the pages after it for full pages; every new run is found either way."""
    now = datetime(2026, 6, 1, tzinfo=UTC)
    runs = [{"Id": f"jr_{n:04d}", "JobRunState": "SUCCEEDED", "StartedOn": now - timedelta(minutes=n)}
            for n in range(500)]
    for new in (3, 120):
        stored = {run["Id"]: "SUCCEEDED" for run in runs[new:]}
        glue = RecordedGlue(runs, GET_JOB_RUNS_PAGE)
        fetch = fetch_new_runs(glue, "job", stored, history_complete=True)
        assert [run["Id"] for run in fetch.changed] == [run["Id"] for run in runs[:new]]
        assert glue.asked == ([REFRESH_FIRST_PAGE] if new < REFRESH_FIRST_PAGE
                              else [REFRESH_FIRST_PAGE, GET_JOB_RUNS_PAGE])
    first = RecordedGlue(runs, GET_JOB_RUNS_PAGE)  # the first inventory: nothing stored, full pages
    assert len(fetch_new_runs(first, "job", {}, history_complete=False).changed) == len(runs)
    assert first.asked == [GET_JOB_RUNS_PAGE] * 3


@settings(max_examples=150, deadline=None)
@given(names=st.lists(JOB_NAMES, min_size=1, max_size=8, unique=True), data=st.data())
def test_tags_in_bulk_reach_exactly_the_wanted_jobs(names, data):
    account, region = "123456789012", "us-east-1"
    tagged = data.draw(st.lists(st.sampled_from(names), unique=True))
    tags = {name: data.draw(st.dictionaries(st.text(max_size=20), st.text(max_size=20), max_size=3))
            for name in tagged}
    noise = data.draw(st.lists(st.sampled_from([
        f"arn:aws:glue:{region}:{account}:trigger/x", f"arn:aws:glue:{region}:{account}:job/deleted-long-ago",
        f"arn:aws:glue:{region}:{account}:crawler/job"]), max_size=3))
    mappings = [{"ResourceARN": job_arn(account, region, name),
                 "Tags": [{"Key": k, "Value": v} for k, v in tags[name].items()]} for name in tagged]
    mappings += [{"ResourceARN": arn, "Tags": [{"Key": "owner", "Value": "x"}]} for arn in noise]
    page = data.draw(st.integers(1, 4))

    class RecordedTagging:
        def get_resources(self, ResourceTypeFilters, ResourcesPerPage, TagsPerPage, PaginationToken):  # noqa: N803
            start = int(PaginationToken or 0)
            end = start + page
            return {"ResourceTagMappingList": mappings[start:end],
                    "PaginationToken": str(end) if end < len(mappings) else ""}

    found = job_tags(tagged_jobs(RecordedTagging()), None, account, region, names)
    wanted = [name for name in names if name != "deleted-long-ago"]
    assert {name: found[name] for name in wanted} == {name: tags.get(name, {}) for name in wanted}
    assert set(found) == set(names)


# --- config.py load_settings ----------------------------------------------------------------------------------

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
YAML_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=12) | st.integers(), inner, max_size=3), max_leaves=10)
PLATFORM_KEYS = ["name", "account_id", "regions", "role_arn", "external_id", "profile", "endpoint_url",
                 "aws_secret_access_key", "password", "session_token"]
PLATFORMS = st.lists(st.dictionaries(st.sampled_from(PLATFORM_KEYS), YAML_VALUES | st.just(["us-east-1"]),
                                     max_size=4) | YAML_VALUES, max_size=3)
# A scalar `platforms` that is not iterable (5, 1.5, true) is a known bug: see HOSTILE_CONFIGS.
NOT_A_NUMBER = st.none() | st.text(max_size=20) | st.lists(YAML_VALUES, max_size=3) | st.dictionaries(
    st.text(max_size=12), YAML_VALUES, max_size=3)
SETTINGS_DOCUMENTS = st.fixed_dictionaries({}, optional={
    "platforms": PLATFORMS | NOT_A_NUMBER,
    "thresholds": st.dictionaries(st.sampled_from(["active_days", "idle_days", "stale_days", "window_days",
                                                   "high_cost_monthly_usd", "failing_rate", "nope"]), YAML_VALUES)
    | YAML_VALUES,
    "pricing": st.dictionaries(st.sampled_from(["standard", "flex"]),
                               st.dictionaries(st.text(max_size=12), SCALARS)) | YAML_VALUES,
    "required_tags": YAML_VALUES, "eol_versions": YAML_VALUES, "llm": YAML_VALUES, "deep_analysis": YAML_VALUES,
    "max_workers": YAML_VALUES, "unknown_key": YAML_VALUES,
})


def _settings_or_config_error(path: Path) -> None:
    try:
        assert isinstance(load_settings(path), Settings)
    except ConfigError as error:
        assert str(path) in str(error)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=SETTINGS_DOCUMENTS | YAML_VALUES)
def test_any_yaml_document_gives_settings_or_a_config_error(document, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    _settings_or_config_error(path)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_any_text_gives_settings_or_a_config_error(text, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _settings_or_config_error(path)


HOSTILE_CONFIGS = {
    "platforms is a number": (b"platforms: 5\n", "platforms"),
    "not UTF-8": ("platforms: [{name: caf\xe9, regions: [us-east-1]}]\n".encode("latin-1"), "UTF-8"),
    "nested 20,000 deep": (b"a: " + b"[" * 20_000 + b"]" * 20_000 + b"\n", "nested"),
    "binary": (b"\x00\x01\xff\xfe", "UTF-8"),
    "impossible date": (b"platforms: [{name: x, regions: [us-east-1], profile: 2001-13-01}]\n", "not valid YAML"),
    "int tag on text": (b"max_workers: !!int sixteen\n", "not valid YAML"),
    "timestamp tag on text": (b"llm: {model: !!timestamp gpt}\n", "not valid YAML"),
}
@pytest.mark.parametrize(("content", "expected"), [pytest.param(*case, id=name)
                                                   for name, case in HOSTILE_CONFIGS.items()])
def test_hostile_config_files_are_config_errors(tmp_path, content, expected):
    path = tmp_path / "config.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=expected):
        load_settings(path)


def test_a_directory_as_config_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=str(tmp_path)):
        load_settings(tmp_path)


@pytest.mark.parametrize("text", [
    "a: &a [1, 2, 3, 4, 5, 6, 7, 8]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c]\nplatforms: [*d, *d, *d, *d, *d, *d, *d, *d]\n",
    "platforms: !!python/object/apply:os.system ['touch /tmp/glue_inventory_pwned']\n",
    "platforms: [{name: x, regions: [us-east-1], aws_secret_access_key: !!binary aGVsbG8=}]\n",
], ids=["alias bomb", "python tag", "secret behind a tag"])
def test_yaml_attacks_are_config_errors_in_bounded_time(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    start = time.monotonic()
    with pytest.raises(ConfigError):
        load_settings(path)
    assert time.monotonic() - start < 5
    assert not Path("/tmp/glue_inventory_pwned").exists()


# --- hostile scripts ------------------------------------------------------------------------------------------

def inspect(data: bytes, location: str = "s3://bucket/scripts/job.py", max_bytes: int = MIB):
    return inspect_script(data, location=location, max_bytes=max_bytes)


MAGIC = st.sampled_from([b"", b"PK\x03\x04", b"\x1f\x8b", b"\xef\xbb\xbf", b"\xff\xfe", b"#!/usr/bin/env python\n",
                         b"# -*- coding: latin-1 -*-\n"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=MAGIC, data=st.binary(max_size=400))
def test_any_bytes_are_classified_and_analysed_without_raising(prefix, data):
    info = inspect(prefix + data)
    assert info.kind in SCRIPT_KINDS and info.size_bytes == len(prefix + data)
    assert "\x00" not in info.text
    result = analyse_script(info, {}, timeout_s=0.01)
    assert result["summary"]["total"] == len(result["findings"]) >= (info.kind != "python")


def _zipapp() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("__main__.py", "print('hi')\n")
    return b"#!/usr/bin/env python3\nprint('launcher')\n" + buffer.getvalue()


@pytest.mark.parametrize("data", [_zipapp(), "password = 'hunter2'\n".encode("utf-16")], ids=["zipapp", "utf-16"])
def test_text_with_an_archive_or_wide_chars_is_binary(data):
    info = inspect(data)
    assert info.kind == "binary" and info.text == ""
    assert [f["rule_id"] for f in analyse_script(info, {}, timeout_s=1)["findings"]] == ["script-binary"]


@pytest.mark.parametrize("source", [
    "x = " + "f(" * 95 + "1" + ")" * 95 + "\n",
    "x = " + "lambda: " * 95 + "1\n",
    "conn = connect(" + "[" * 95 + "'pw'" + "]" * 95 + ")\n",
], ids=["calls", "lambdas", "connect"])
def test_nesting_just_under_the_limit_reaches_pylint_and_bandit_without_a_crash(source):
    start = time.monotonic()
    result = analyse_script(inspect(source.encode()), {}, timeout_s=60)
    assert time.monotonic() - start < 90
    assert set(result["tools"].values()) <= {"ran", "error", "timeout"}
    assert "too-deeply-nested" not in result["summary"]["by_rule"]


def test_hundred_thousand_secret_lines_are_redacted_capped_and_bounded():
    data = "".join(f'db_password_{i} = "Pw{i:06d}-xYz9Qk"\n' for i in range(100_000)).encode()
    start = time.monotonic()
    info = inspect(data, max_bytes=8 * MIB)
    result = analyse_script(info, {}, timeout_s=1)
    assert time.monotonic() - start < 120
    assert "-xYz9Qk" not in info.text and info.text.count(REDACTED) == 100_000
    by_rule = result["summary"]["by_rule"]
    assert by_rule["hardcoded-credentials"] == MAX_FINDINGS_PER_RULE and by_rule["findings-truncated"] == 1
    assert not any("-xYz9Qk" in finding["message"] for finding in result["findings"])


def test_a_megabyte_line_is_analysed_in_bounded_time():
    data = b'password = "' + b"A1b2" * 250_000 + b'"\n'
    start = time.monotonic()
    info = inspect(data, max_bytes=2 * MIB)
    result = analyse_script(info, {}, timeout_s=1)
    assert time.monotonic() - start < 30
    assert "A1b2A1b2" not in info.text
    assert "hardcoded-credentials" in result["summary"]["by_rule"]


def test_the_script_is_never_executed(tmp_path):
    marker = tmp_path / "executed"
    source = (f"import os\nopen({str(marker)!r}, 'w').write('ran')\nos.system('touch {marker}')\n"
              f"if __name__ == '__main__':\n    os.system('touch {marker}')\n")
    result = analyse_script(inspect(source.encode()), {}, timeout_s=60)
    assert result["tools"] == {"pylint": "ran", "bandit": "ran"}
    assert not marker.exists()
    assert "runtime-code-execution" in result["summary"]["by_rule"]


def test_suppression_comments_do_not_hide_our_own_rules():
    """`# nosec` silences bandit and `# pylint: skip-file` pylint; the AST rules still report."""
    source = (b"# pylint: skip-file\nimport subprocess\n"
              b'password = "Hunter2-Secret-99"  # nosec\nsubprocess.call("ls " + path, shell=True)  # nosec\n')
    result = analyse_script(inspect(source), {}, timeout_s=60)
    assert {"hardcoded-credentials", "runtime-code-execution"} <= set(result["summary"]["by_rule"])


def test_secret_lines_are_right_with_carriage_return_line_endings():
    info = inspect(b'import os\rpassword = "Hunter2-Secret-99"\rvalue = os.getenv("A")\r')
    assert "Hunter2-Secret-99" not in info.text
    lines = {f["line"] for f in info.findings if f["rule_id"] == "secret-in-script"}
    ast_lines = {f["line"] for f in run_code_rules(info.text) if f["rule_id"] == "hardcoded-credentials"}
    assert lines == ast_lines == {2}


def test_tool_environment_ignores_the_working_directory(tmp_path, monkeypatch):
    """A pylintrc or bandit config next to where the pipeline runs cannot change (or run code in) the tools."""
    (tmp_path / "pylintrc").write_text("[MAIN]\nload-plugins=evil_plugin\n")
    (tmp_path / "evil_plugin.py").write_text(f"open({str(tmp_path / 'loaded')!r}, 'w').write('x')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = analyse_script(inspect(b"import os\nprint(os.sep)\n"), {}, timeout_s=60)
    assert result["tools"] == {"pylint": "ran", "bandit": "ran"}
    assert not (tmp_path / "loaded").exists()
