"""services.deep_inputs and services.code.review, called directly on the jobs the lanes chose: scripts are the
simulator's objects, CloudWatch is asked about the latest finished runs, a platform that cannot be reached is
each job's error, and the code analysis and the LLM review are cached."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from glue_inventory.aws.sessions import SessionMap
from glue_inventory.services.code.review import ai_reviews, code_analyses
from glue_inventory.services.deep_inputs import cloudwatch_results, script_results
from glue_inventory.services.preliminary import job_record
from glue_inventory_tests.llm_server import LLMServer
from glue_inventory_tests.services.conftest import partition_key

REVIEW = {"summary": "Fine.", "overall_risk": "low", "recommendations": []}


def _planted(inventory) -> dict:
    return {partition_key(job.key): job for job in inventory.sim.fleet.jobs}


def test_each_script_is_the_simulators_object_and_keeps_no_secret(inventory, deep):
    planted = _planted(inventory)
    for key, script in deep.scripts.items():
        if not inventory.truth[key].script_present:
            assert script["kind"] == "missing" and not script.get("sha256"), key
            continue
        body = planted[key].script.text.encode("utf-8")
        assert (script["sha256"], script["size_bytes"]) == (hashlib.sha256(body).hexdigest(), len(body)), key
        assert not [secret for secret in inventory.truth[key].secrets if secret in script["text"]], key


def test_cloudwatch_is_asked_about_each_jobs_latest_finished_runs_of_the_window(inventory, deep):
    planted = _planted(inventory)
    since = (datetime.now(UTC) - timedelta(days=inventory.settings.thresholds.window_days)).timestamp()
    for key, result in deep.cloudwatch.items():
        finished = sorted((run for run in planted[key].runs if run.state != "RUNNING" and run.started >= since),
                          key=lambda run: -run.started)
        assert result["run_ids"] == [run.job_run_id for run in finished[:inventory.settings.deep_analysis.max_runs]]
        assert result["error"] is None, key


def test_a_platform_that_cannot_be_reached_is_each_jobs_error_and_nothing_else_fails(inventory, deep):
    jobs = dict(sorted(deep.jobs.items())[:3])
    specs = {key: job_record(job).spec for key, job in jobs.items()}
    nowhere = SessionMap([])
    watched = cloudwatch_results(nowhere, inventory.engine, jobs, specs, inventory.settings, datetime.now(UTC))
    scripts = script_results(nowhere, jobs, inventory.settings)
    for key in jobs:
        assert watched[key]["error"].startswith("no configured platform reaches account"), key
        assert scripts[key]["error"] == watched[key]["error"]
        assert [finding["rule_id"] for finding in scripts[key]["findings"]] == ["script-unreadable"]


def test_a_second_code_analysis_comes_from_the_cache_with_the_same_findings(inventory, deep):
    again, hits = code_analyses(inventory.engine, deep.jobs, deep.scripts, inventory.settings)
    assert hits == sum(1 for script in deep.scripts.values() if script.get("sha256")) > 0
    assert again == deep.code


def test_every_secret_looking_argument_is_a_critical_finding(deep):
    named = {key: job["secret_argument_names"] for key, job in deep.jobs.items() if job["secret_argument_names"]}
    assert named
    for key, names in named.items():
        flagged = {finding.get("argument"): finding["severity"] for finding in deep.code[key]["findings"]
                   if finding["rule_id"] == "secret-in-arguments"}
        assert {name: flagged.get(name) for name in names} == dict.fromkeys(names, "critical"), key


def test_the_llm_review_is_skipped_without_a_key_and_asked_once_with_one(inventory, deep):
    assert {review["status"] for review in deep.ai.values()} == {"skipped"}
    jobs = dict(sorted(deep.jobs.items())[:2])
    specs = {key: job_record(job).spec for key, job in jobs.items()}
    with LLMServer(json.dumps(REVIEW)) as llm:
        env = {"OPENAI_API_KEY": "sk-test-not-a-real-key", "OPENAI_BASE_URL": llm.base_url}
        first = ai_reviews(inventory.engine, specs, deep.scripts, deep.code, deep.cloudwatch, inventory.settings, env)
        asked = len(llm.requests)
        second = ai_reviews(inventory.engine, specs, deep.scripts, deep.code, deep.cloudwatch, inventory.settings, env)
    assert {review["status"] for review in first.values()} == {"ok"}
    assert asked == len(jobs) and len(llm.requests) == asked
    assert second == first
