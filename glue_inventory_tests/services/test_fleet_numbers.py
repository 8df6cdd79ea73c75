"""One place per number: the executive report (`executive.json`), the KPIs and the refresh notification show
the same live jobs, estimated spend, bill, candidates and savings as `analysis.fleet.FleetNumbers`, on the same
inventory (a whole pipeline with the bill and deep analyses, on the simulator)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import dagster as dg
import pytest

from glue_inventory.orchestration.assets import CANDIDATES
from glue_inventory.pipeline import run_pipeline
from glue_inventory.services.fleet import current_fleet_numbers
from glue_inventory.services.kpis import current_kpis
from glue_inventory.services.notifications import refresh_summary
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.db import engine_for
from glue_inventory_tests.sim_fixtures import billed_estate


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("fleet_numbers")
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    with start_simulator(build_fleet(30, 23, datetime.now(UTC), account_id="634567890123")) as sim, \
            pytest.MonkeyPatch.context() as monkeypatch:
        billed_estate(sim, tmp_path, monkeypatch, url)
        with dg.DagsterInstance.ephemeral() as instance:
            run_pipeline(instance, log=lambda _: None, deep_jobs=4)
            run_id = instance.get_latest_materialization_event(CANDIDATES).run_id
        engine = engine_for(url)
        report = json.loads((tmp_path / "reports" / "executive.json").read_text())
        published = current_kpis(engine, datetime.now(UTC), levels=())
        kpis = {kpi.name: kpi.value for kpi in published if not kpi.dimensions}
        kpis |= {f"Candidates:{dict(kpi.dimensions)['Priority']}": kpi.value for kpi in published
                 if kpi.name == "Candidates"}
        _, text = refresh_summary(engine, run_id)
        yield current_fleet_numbers(engine), report, kpis, text


def _dollars(text: str, after: str) -> float:
    return float(re.search(re.escape(after) + r" \$([\d,]+\.\d\d)", text).group(1).replace(",", ""))


def test_the_report_the_kpis_and_the_notification_show_the_same_figures(inventory):
    fleet, report, kpis, text = inventory
    assert fleet.live_jobs == 30 and fleet.candidates > 0 and fleet.savings_identified_usd > 0
    assert fleet.billed_monthly_usd is not None and fleet.billed_monthly_usd > 0

    assert report["jobs"]["live"] == kpis["LiveJobs"] == fleet.live_jobs
    assert f"{fleet.live_jobs} live Glue jobs" in text
    assert report["spend"]["estimated_monthly_usd"] == fleet.estimated_monthly_usd
    assert kpis["EstimatedMonthlySpendUSD"] == pytest.approx(fleet.estimated_monthly_usd, abs=0.01)
    assert _dollars(text, "estimated spend") == fleet.estimated_monthly_usd

    assert report["savings"]["candidates"] == fleet.candidates
    assert f"{fleet.candidates} candidates for deep analysis" in text
    assert {priority: kpis[f"Candidates:{priority}"] for priority in fleet.candidates_by_priority} == \
        fleet.candidates_by_priority == report["priorities"]
    assert report["savings"]["total_monthly_usd"] == fleet.savings_identified_usd
    assert kpis["SavingsIdentifiedMonthlyUSD"] == pytest.approx(fleet.savings_identified_usd, abs=0.01)
    assert _dollars(text, "savings identified") == fleet.savings_identified_usd
    assert report["savings"]["potential_monthly_usd"] == fleet.savings_potential_usd
    assert kpis["SavingsPotentialMonthlyUSD"] == pytest.approx(fleet.savings_potential_usd, abs=0.01)
    assert _dollars(text, "potential") == fleet.savings_potential_usd

    # The bill of the same window everywhere (no job was deleted, so every billed job is live).
    assert kpis["BilledMonthlySpendUSD"] == pytest.approx(fleet.billed_monthly_usd, abs=0.01)
    assert report["billing"]["jobs_billed_usd"] == pytest.approx(fleet.billed_monthly_usd, abs=0.01)
