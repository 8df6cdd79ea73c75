"""The fleet is deterministic, plants everything the pipeline must find, and its truth is stable."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta

import pytest

from glue_inventory.simulate import build_fleet
from glue_inventory.simulate.catalog import CANDIDATE_REASONS, ODD_NAMES, RULE_IDS, STATUSES
from glue_inventory.simulate.scripts import RULES_BY_TYPE, render_script
from glue_inventory.simulate.truth import compute_truth

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def fleet_200():
    return build_fleet(200, 11, NOW)


def _snapshot(fleet):
    return [(job.key, job.command, job.default_arguments, job.tags, job.created_on, job.script.text,
             [run.as_dict() for run in job.runs]) for job in fleet.jobs]


def test_same_seed_gives_the_same_fleet():
    assert _snapshot(build_fleet(80, 3, NOW)) == _snapshot(build_fleet(80, 3, NOW))


def test_another_seed_gives_another_fleet():
    assert _snapshot(build_fleet(80, 3, NOW)) != _snapshot(build_fleet(80, 4, NOW))


def test_negative_job_count_is_refused():
    with pytest.raises(ValueError, match="jobs must be 0 or more"):
        build_fleet(-1, 7, NOW)


def test_every_status_reason_and_rule_is_planted(fleet_200):
    truth = compute_truth(fleet_200, fleet_200.now)
    assert {t.status for t in truth.values()} == set(STATUSES) - {"deleted"}
    assert set().union(*(t.reasons for t in truth.values())) == set(CANDIDATE_REASONS)
    assert set().union(*(t.code_findings for t in truth.values())) == set(RULE_IDS)
    assert any(t.over_provisioned for t in truth.values())
    assert any(t.cost_30d_usd >= 100 for t in truth.values())
    assert any(t.secrets for t in truth.values())


def test_shapes_cover_every_job_type_worker_type_and_version(fleet_200):
    jobs = fleet_200.jobs
    assert {job.command["Name"] for job in jobs} == {"glueetl", "pythonshell", "gluestreaming", "glueray"}
    assert {job.config.worker_type for job in jobs} >= {"G.025X", "G.1X", "G.2X", "G.4X", "G.8X", "Z.2X",
                                                        "Standard", None}
    assert {job.config.glue_version for job in jobs} == {"0.9", "1.0", "2.0", "3.0", "4.0", "5.0", None}
    shells = {job.config.max_capacity for job in jobs if job.command["Name"] == "pythonshell"}
    assert shells == {0.0625, 1.0}
    assert {job.config.execution_class for job in jobs} == {"STANDARD", "FLEX"}
    assert {job.tags.get("env") for job in jobs} == {"prod", "dev", "staging", None}
    assert {"daily sales.eu", "ingest...raw", "données_clients"} <= {job.name for job in jobs}
    assert len({job.region for job in jobs}) == 2


def test_run_histories_look_like_a_real_estate(fleet_200):
    counts = [len(job.runs) for job in fleet_200.jobs]
    assert 80 <= sum(counts) / len(counts) <= 200
    assert any(count >= 1000 for count in counts)
    states = {run.state for job in fleet_200.jobs for run in job.runs}
    assert states == {"SUCCEEDED", "FAILED", "TIMEOUT", "ERROR", "STOPPED", "RUNNING"}
    for job in fleet_200.jobs:
        running = [run for run in job.runs if run.state == "RUNNING"]
        assert len(running) <= 1
        if running:
            assert running[0].started == max(run.started for run in job.runs)
            assert "CompletedOn" not in running[0].as_dict()


def test_dpu_seconds_only_on_flex_and_auto_scaling_runs(fleet_200):
    for job in fleet_200.jobs:
        for run in job.runs:
            if run.dpu_seconds is not None:
                assert run.config.execution_class == "FLEX" or run.config.auto_scaling


def test_truth_is_stable_for_a_while(fleet_200):
    """Planted ages stay clear of day boundaries and the cost window edge: a test run later agrees."""
    assert compute_truth(fleet_200, NOW + timedelta(minutes=30)) == compute_truth(fleet_200, NOW)


def test_planted_status_matches_the_oracle(fleet_200):
    truth = compute_truth(fleet_200, fleet_200.now)
    assert {job.key: job.profile.status for job in fleet_200.jobs} == {k: t.status for k, t in truth.items()}


def test_high_cost_includes_the_costliest_tenth(fleet_200):
    truth = compute_truth(fleet_200, fleet_200.now)
    ranked = sorted(truth.values(), key=lambda t: -t.cost_30d_usd)
    assert all("high_cost" in t.reasons for t in ranked[:20] if t.cost_30d_usd > 0)
    assert all("high_cost" not in t.reasons for t in truth.values() if t.cost_30d_usd == 0)


def test_odd_names_are_unicode_and_dots():
    assert "ingest...raw" in ODD_NAMES and any(not name.isascii() for name in ODD_NAMES)


_PROBLEM_PATTERNS = re.compile(
    r"\.collect\(\)|toPandas|coalesce\(1\)|repartition\(1\)|password|pip\"|eval\(|exec\(|except:|^print ",
    re.MULTILINE)


@pytest.mark.parametrize("job_type", sorted(RULES_BY_TYPE))
def test_clean_scripts_parse_and_carry_no_planted_problem(job_type):
    script = render_script(job_type, frozenset(), slug="x", table="sales_orders", database="sales_db",
                           bucket="b", secret="Sup3rSecret!x9")
    tree = ast.parse(script.text)
    assert not _PROBLEM_PATTERNS.search(script.text)
    calls = {node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", "") == "job"}
    assert ("init" in calls) == ("commit" in calls)


@pytest.mark.parametrize("rule", [rule for rule in RULE_IDS if rule not in ("python2-syntax", "scala-script")])
def test_each_planted_rule_renders_valid_python(rule):
    job_type = next(t for t, rules in RULES_BY_TYPE.items() if rule in rules)
    script = render_script(job_type, frozenset({rule}), slug="x", table="t", database="d", bucket="b",
                           secret="Sup3rSecret!x9")
    ast.parse(script.text)


def test_python2_script_does_not_parse_as_python3():
    script = render_script("glueetl", frozenset({"python2-syntax"}), slug="x", table="t", database="d",
                           bucket="b", secret="s")
    with pytest.raises(SyntaxError):
        ast.parse(script.text)
