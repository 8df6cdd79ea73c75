"""Savings a FinOps team can defend, on a simulated fleet whose CloudWatch metrics have a known truth: the costliest
jobs get the deep analyses, each recommendation stays within the capacity-planning bounds of the AWS Glue
developer guide, and the headline is measured + exact in every place it is shown."""

import json
import re
from dataclasses import replace
from datetime import UTC, datetime

import dagster as dg
import pytest

from glue_inventory.analysis.cost.rightsizing import HEADROOM, executors_available
from glue_inventory.keys import encode_partition_key
from glue_inventory.orchestration.assets import CANDIDATES, DEEP_ASSET_KEYS, REMEDIATION, REPORT, RESCORE_OPS
from glue_inventory.pipeline import materialize, run_pipeline
from glue_inventory.reports.paths import job_report_relpath
from glue_inventory.services.kpis import current_kpis
from glue_inventory.simulate import Profile, build_fleet_from, start_simulator
from glue_inventory.storage.actions.remediation import current_plans
from glue_inventory.storage.analyses import latest_deep
from glue_inventory.storage.candidates import current_candidates
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.jobs import read_jobs
from glue_inventory_tests.sim_fixtures import point_pipeline_at

BIG = Profile(schedule="hourly", worker_type="G.2X", workers=20, env="prod", missing_tags="")
# The costliest jobs, each with a known truth in its CloudWatch metrics.
TRUTH = {
    "over_provisioned_etl": replace(BIG, over_provisioned=True, name="over_provisioned_etl"),
    "right_sized_etl": replace(BIG, name="right_sized_etl"),
    "starved_etl": replace(BIG, starved=True, name="starved_etl"),
    "auto_scaling_etl": replace(BIG, over_provisioned=True, auto_scaling=True, name="auto_scaling_etl"),
    "no_metrics_etl": replace(BIG, metrics=False, name="no_metrics_etl"),
}
# Cheap jobs around them, and a few whose risk fills the risk lane.
SMALL = [Profile(schedule="weekly", worker_type="G.1X", workers=2, env="prod") for _ in range(12)]
RISKY = [Profile(schedule="weekly", worker_type="G.1X", workers=2, env="prod", secret_args=True) for _ in range(3)]
LANES = "deep_analysis: {top_k_savings: 5, top_k_risk: 3}\n"
ACCOUNT = "612345678901"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("truth")
    fleet = build_fleet_from([*TRUTH.values(), *SMALL, *RISKY], 11, datetime.now(UTC), account_id=ACCOUNT)
    config = tmp_path / "config.yaml"
    config.write_text(LANES)
    database_url = f"sqlite:///{tmp_path / 'inventory.db'}"
    with start_simulator(fleet) as sim, pytest.MonkeyPatch.context() as monkeypatch:
        point_pipeline_at(monkeypatch, sim, database_url, tmp_path / "reports", config)
        with dg.DagsterInstance.ephemeral() as instance:
            run_pipeline(instance, log=lambda _: None)
            engine = engine_for(database_url)
            # The deep analysis of every chosen job, as the sensor would request it, then the candidate list
            # downstream of it, which scores their evidence and keeps each job's lane and rank (the follow-up).
            for key in (c["key"] for c in current_candidates(engine) if c["deep_lane"]):
                materialize(instance, DEEP_ASSET_KEYS, partition_key=key)
            materialize(instance, [CANDIDATES], ops=RESCORE_OPS)
            materialize(instance, [REMEDIATION, REPORT])
            chosen = {c["key"]: c for c in current_candidates(engine)}
            kpis = current_kpis(engine, datetime.now(UTC))
        yield engine, chosen, tmp_path / "reports", kpis


def _key(name: str) -> str:
    return encode_partition_key(ACCOUNT, "us-east-1", name)


def test_the_costliest_jobs_fill_the_savings_lane_and_risk_the_other(analysed):
    _, chosen, _, _ = analysed
    savings_lane = {key for key, c in chosen.items() if c["deep_lane"] == "savings"}
    assert savings_lane == {_key(name) for name in TRUTH}
    risk_lane = [c for c in chosen.values() if c["deep_lane"] == "risk"]
    assert len(risk_lane) == 3 and all("secrets_in_arguments" in c["reasons"] for c in risk_lane)
    assert sorted(c["deep_rank"] for c in risk_lane) == [1, 2, 3]


def _sizing(engine, name: str) -> dict:
    job = read_jobs(engine, [_key(name)])[_key(name)]
    return latest_deep(engine)[job["data_job_id"]]["metrics"]["cloudwatch"]["rightsizing"]


def test_each_recommendation_is_within_the_capacity_planning_bounds(analysed):
    engine, _, _, _ = analysed
    over = _sizing(engine, "over_provisioned_etl")
    assert over["status"] == "over_provisioned" and over["estimated_monthly_savings_usd"] > 0
    # "Monitoring for DPU capacity planning": the executors needed at the peak, each in the current worker
    # size, must fit the recommended workers (one executor per G worker, the driver on one), with no more
    # than our headroom and one worker of rounding above them.
    peak, target = over["evidence"]["peak_needed_executors"], over["recommended"]
    scale = {"G.1X": 1, "G.2X": 2}
    slots = executors_available(target["worker_type"], target["number_of_workers"]) * scale[target["worker_type"]]
    needed = peak * scale["G.2X"]
    assert needed <= slots <= needed * (1 + HEADROOM) + 2 * scale[target["worker_type"]]
    assert target["dpu"] < over["current"]["dpu"]

    assert _sizing(engine, "right_sized_etl")["status"] == "right_sized"
    starved = _sizing(engine, "starved_etl")
    assert starved["status"] == "needs_more_capacity" and starved["estimated_monthly_savings_usd"] == 0
    assert starved["recommended"]["dpu"] > starved["current"]["dpu"] and starved["estimated_monthly_increase_usd"] > 0
    scaling = _sizing(engine, "auto_scaling_etl")
    assert scaling["estimated_monthly_savings_usd"] == 0  # NumberOfWorkers is only a ceiling
    assert "auto-scaling-ceiling" in {f["rule_id"] for f in scaling["findings"]}
    assert _sizing(engine, "no_metrics_etl")["status"] == "metrics_disabled"


def test_savings_rest_on_what_was_measured(analysed):
    _, chosen, _, _ = analysed
    over = chosen[_key("over_provisioned_etl")]
    assert over["savings_basis"] == "measured" and over["savings_by_basis"]["rule_of_thumb"] == 0
    assert over["savings_by_basis"]["measured"] == pytest.approx(over["savings_by_reason"]["right_sizing"])
    for name in ("right_sized_etl", "starved_etl", "auto_scaling_etl"):
        assert chosen[_key(name)]["estimated_monthly_savings_usd"] == 0  # measured: nothing to save
    blind = chosen[_key("no_metrics_etl")]  # nothing to measure it with: the rule of thumb stays, apart
    assert blind["savings_basis"] == "rule_of_thumb" and blind["savings_by_basis"]["measured"] == 0


def test_a_job_without_evidence_gets_its_metrics_enabled(analysed):
    engine, _, reports, _ = analysed
    plans = {(plan["key"], plan["kind"]) for plan in current_plans(engine)}
    assert (_key("no_metrics_etl"), "enable_job_metrics") in plans
    assert not any(kind == "enable_job_metrics" for key, kind in plans if key != _key("no_metrics_etl"))
    numbers = json.loads((reports / "executive.json").read_text())
    to_measure = {m["job"]: m for m in numbers["savings"]["to_measure"]}
    assert "enable --enable-metrics" in to_measure["no_metrics_etl"]["how"]


def test_the_headline_is_measured_plus_exact_everywhere(analysed):
    _, chosen, reports, kpis = analysed
    parts = {b: round(sum(c["savings_by_basis"][b] for c in chosen.values()), 2)
             for b in ("measured", "exact", "rule_of_thumb")}
    assert parts["measured"] > 0 and parts["rule_of_thumb"] > 0
    identified = round(parts["measured"] + parts["exact"], 2)
    numbers = json.loads((reports / "executive.json").read_text())
    assert numbers["savings"]["by_basis"] == parts
    assert numbers["savings"]["total_monthly_usd"] == identified
    assert numbers["savings"]["potential_monthly_usd"] == parts["rule_of_thumb"]
    summary = (reports / "executive_summary.md").read_text()
    assert f"**Savings identified: ${identified:,.2f} per month**" in summary
    page = (reports / "dashboard.html").read_text()
    assert f'id="savings-total">${identified:,.2f}<' in page
    fleet = {k.name: k.value for k in kpis if not k.dimensions}
    assert fleet["SavingsIdentifiedMonthlyUSD"] == pytest.approx(identified, abs=0.01)
    assert fleet["SavingsPotentialMonthlyUSD"] == pytest.approx(parts["rule_of_thumb"], abs=0.01)


def test_no_job_report_adds_up_to_more_than_the_job_costs(analysed):
    engine, chosen, reports, _ = analysed
    checked = 0
    for key, candidate in chosen.items():
        if not candidate["deep_lane"]:
            continue
        job = read_jobs(engine, [key])[key]
        report = (reports / job_report_relpath(key)).read_text()
        together = re.search(r"Recommendations together: \$([\d,.]+) per month", report)
        if together:  # none when nothing needs doing
            assert float(together.group(1).replace(",", "")) <= round(job["metrics"]["monthly_projection_usd"], 2)
        lane = "savings lane" if candidate["deep_lane"] == "savings" else "risk lane"
        assert f"Chosen for deep analysis: {lane}, #{candidate['deep_rank']}" in report
        checked += 1
    assert checked == 8
