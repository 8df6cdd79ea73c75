"""services.deep_verdict and services.deep_selection, called directly: the deep analysis of the jobs the lanes
chose is stored once per job, measures what right-sizing saves where the simulator over-provisioned, turns
planted problems into priorities, and the rescored list carries its verdicts."""

from __future__ import annotations

import sqlalchemy as sa

from glue_inventory.analysis.cost.savings import MEASURED, RULE_OF_THUMB
from glue_inventory.analysis.findings import is_security_finding
from glue_inventory.reports.paths import job_report_relpath
from glue_inventory.services.deep_selection import deep_analysis_plan, load_chosen
from glue_inventory.services.deep_verdict import compile_deep_analysis
from glue_inventory.storage.tables import analysis_runs, data_jobs
from glue_inventory_tests.services.conftest import DEEP_RUN


def test_the_jobs_planned_are_the_lanes_of_the_candidate_list(inventory, deep):
    laned = {row["key"] for row in inventory.candidates.rows if row["deep_lane"]}
    assert laned and set(deep.planned) == laned
    assert set(deep.planned.values()) == {"never analysed"}
    assert set(deep.configs) == laned


def test_each_analysed_job_has_one_stored_deep_analysis_and_its_report(inventory, deep):
    with inventory.engine.connect() as conn:
        stored = conn.execute(sa.select(data_jobs.c.partition_key, analysis_runs.c.recommendations)
                              .join(data_jobs, data_jobs.c.id == analysis_runs.c.data_job_id)
                              .where(analysis_runs.c.analysis_type == "deep",
                                     analysis_runs.c.dagster_run_id == DEEP_RUN)).all()
    assert sorted(key for key, _ in stored) == sorted(deep.planned)
    assert set(deep.verdicts) == set(deep.planned)
    assert {verdict["report"] for verdict in deep.verdicts.values()} == set(deep.files)
    assert dict(stored) == {key: verdict["recommendations"] for key, verdict in deep.verdicts.items()}
    for key, verdict in deep.verdicts.items():
        assert verdict["report"] == job_report_relpath(key)
        lane, rank = next((row["deep_lane"], row["deep_rank"]) for row in inventory.candidates.rows
                          if row["key"] == key)
        assert (verdict["deep_lane"], verdict["deep_rank"]) == (lane, rank)


def test_an_over_provisioned_job_gets_a_measured_right_sizing_saving_and_no_other_job_does(inventory, deep):
    over = {key for key in deep.verdicts if inventory.truth[key].over_provisioned}
    assert over, "a lane chose an over-provisioned job"
    for key, verdict in deep.verdicts.items():
        sizing = [rec for rec in verdict["recommendations"] if rec["source"] == "cloudwatch"
                  and rec["est_monthly_savings_usd"] > 0]
        if key in over:
            assert deep.cloudwatch[key]["rightsizing"]["status"] == "over_provisioned", key
            assert sizing and all(rec["savings_basis"] == MEASURED for rec in sizing), key
            assert verdict["savings_by_basis"][MEASURED] > 0, key
        else:
            assert not sizing, key


def test_planted_code_problems_are_findings_of_the_analysed_jobs(inventory, deep):
    assert any(not inventory.truth[key].script_present for key in deep.verdicts)
    for key in deep.verdicts:
        truth = inventory.truth[key]
        rules = {finding["rule_id"] for finding in deep.code[key]["findings"]}
        assert truth.code_findings - {"scala-script"} <= rules, key
        assert bool(deep.scripts[key].get("sha256")) == truth.script_present, key
        if not truth.script_present:
            assert rules & {"script-missing"}, key


def test_priorities_follow_the_evidence_secrets_critical_eol_and_failing_at_least_high(inventory, deep):
    assert {verdict["priority"] for verdict in deep.verdicts.values()} >= {"critical", "high"}
    for key, verdict in deep.verdicts.items():
        reasons = inventory.truth[key].reasons
        critical_finding = any(is_security_finding(f) and f["severity"] == "critical"
                               for f in deep.code[key]["findings"])
        if "secrets_in_arguments" in reasons or critical_finding:
            assert verdict["priority"] == "critical", key
        elif reasons & {"eol_version", "failing"}:
            assert verdict["priority"] in ("critical", "high"), key


def test_the_models_recommendations_are_kept_as_rules_of_thumb(inventory, deep):
    key = sorted(deep.verdicts)[0]
    advice = {"title": "Use fewer workers", "category": "cost", "severity": "medium",
              "est_monthly_savings_usd": 12.5, "effort": "low"}
    compiled, _ = compile_deep_analysis({key: deep.jobs[key]}, deep.scripts, deep.code, deep.cloudwatch,
                                        {key: {"status": "ok", "recommendations": [advice]}}, inventory.settings)
    from_model = [rec for rec in compiled[key]["recommendations"] if rec["source"] == "ai"]
    assert from_model == [advice | {"source": "ai", "savings_basis": RULE_OF_THUMB}]
    assert [rec for rec in compiled[key]["recommendations"] if rec["source"] != "ai"] == \
        deep.verdicts[key]["recommendations"]


def test_the_rescored_list_carries_each_verdict_and_leaves_the_other_jobs_as_they_were(inventory, deep):
    before = {row["key"]: row for row in inventory.candidates.rows}
    after = {row["key"]: row for row in deep.rescored.rows}
    for key, verdict in deep.verdicts.items():
        if verdict["priority"] is None:
            assert key not in after, key
            continue
        row = after[key]
        assert (row["priority"], row["deep_lane"], row["deep_rank"]) == \
            (verdict["priority"], verdict["deep_lane"], verdict["deep_rank"]), key
        assert row["estimated_monthly_savings_usd"] == verdict["estimated_monthly_savings_usd"], key
    for key in set(before) - set(deep.verdicts):
        assert (after[key]["priority"], after[key]["estimated_monthly_savings_usd"]) == \
            (before[key]["priority"], before[key]["estimated_monthly_savings_usd"]), key


def test_an_analysed_job_is_planned_again_only_when_it_is_new_to_the_list_or_its_configuration_changed(
        inventory, deep):
    plan, configs = deep_analysis_plan(inventory.engine, deep.configs)
    assert plan == {} and configs == deep.configs
    chosen = {job.key: job for job in load_chosen(inventory.engine)}
    assert set(chosen) == set(deep.planned)
    assert all(job.analysed_at is not None for job in chosen.values())
    first, second = sorted(deep.configs)[:2]
    previous = {key: config for key, config in deep.configs.items() if key != first} | {second: "another"}
    plan, _ = deep_analysis_plan(inventory.engine, previous)
    assert plan == {first: "new candidate", second: "configuration changed"}
