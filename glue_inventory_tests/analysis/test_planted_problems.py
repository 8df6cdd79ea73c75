"""On the simulator's scripts every planted problem is found, and clean scripts stay (almost) clean."""

from datetime import UTC, datetime

import pytest

from glue_inventory.analysis.code.analysis import analyse_script
from glue_inventory.analysis.code.script import inspect_script
from glue_inventory.simulate import build_fleet

# The simulator names a Scala job's problem `scala-script`; the analysis reports it as not analysed.
FINDING_FOR_PLANTED = {"scala-script": "scala-not-analysed"}
MAX_BYTES = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def fleet():
    return build_fleet(200, 42, datetime.now(UTC))


def _inspect(job):
    language = job.default_arguments.get("--job-language")
    return inspect_script(job.script.text.encode(), location=job.script_location, max_bytes=MAX_BYTES,
                          job_language=language)


def test_every_planted_problem_is_found(fleet):
    planted_jobs = [job for job in fleet.jobs if job.script.rules and not job.profile.script_missing]
    planted_rules = {rule for job in planted_jobs for rule in job.script.rules}
    assert len(planted_rules) >= 9, planted_rules
    missed = []
    for job in planted_jobs:
        # Tools off (timeout 0 is not allowed): the planted problems are the AST rules' to find.
        result = analyse_script(_inspect(job), job.default_arguments, timeout_s=0.001)
        found = {f["rule_id"] for f in result["findings"]}
        for rule in job.script.rules:
            if FINDING_FOR_PLANTED.get(rule, rule) not in found:
                missed.append((job.name, rule))
    assert not missed, f"recall {1 - len(missed) / sum(len(j.script.rules) for j in planted_jobs):.0%}: {missed}"


def _serious(result: dict) -> list[dict]:
    return [f for f in result["findings"] if f["severity"] in ("critical", "high", "medium")]


def test_at_most_ten_percent_of_findings_are_false(fleet):
    """Every serious finding on a clean script is false; those on planted scripts for a planted rule are true."""
    true = false = 0
    for job in fleet.jobs:
        if job.profile.script_missing:
            continue
        result = analyse_script(_inspect(job), {}, timeout_s=0.001)
        for finding in _serious(result):
            planted = {FINDING_FOR_PLANTED.get(rule, rule) for rule in job.script.rules}
            if finding["rule_id"] in planted:
                true += 1
            elif not job.script.rules:
                false += 1
    assert true > 0
    assert false / (true + false) <= 0.10, (true, false)


def test_pylint_and_bandit_stay_quiet_on_clean_scripts(fleet):
    clean = [job for job in fleet.jobs if not job.script.rules and not job.profile.script_missing]
    # One clean script per template is enough for the real tools (pylint takes about a second each).
    by_template = {}
    for job in clean:
        by_template.setdefault((job.command["Name"], job.default_arguments.get("--job-language")), job)
    assert len(by_template) >= 3
    for job in by_template.values():
        result = analyse_script(_inspect(job), {}, timeout_s=60)
        assert result["tools"]["pylint"] == "ran"
        assert not _serious(result), (job.name, _serious(result))
