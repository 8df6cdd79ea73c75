"""KPIs from plain rows: three levels of dimensions, zeros where an alarm needs data, billed only when known."""

from __future__ import annotations

from collections import Counter

from glue_inventory.analysis.kpis import NO_TEAM, fleet_kpis


def test_kpis_of_plain_rows():
    jobs = [{"key": "1/r/a", "account_id": "1", "team": "data", "monthly_projection_usd": 10.0},
            {"key": "1/r/b", "account_id": "1", "team": None, "monthly_projection_usd": 5.0},
            {"key": "2/r/c", "account_id": "2", "team": "data", "monthly_projection_usd": 1.0}]
    candidates = [{"key": "1/r/a", "priority": "critical", "estimated_monthly_savings_usd": 3.0}]
    kpis = {(k.name, k.dimensions): k.value for k in fleet_kpis(jobs, candidates, [], ["2", "2"], {"1/r/a": 12.5})}
    assert kpis[("LiveJobs", ())] == 3
    assert kpis[("EstimatedMonthlySpendUSD", (("Account", "1"), ("Team", NO_TEAM)))] == 5.0
    assert kpis[("BilledMonthlySpendUSD", (("Account", "1"),))] == 12.5
    assert kpis[("Candidates", (("Priority", "critical"), ("Account", "1"), ("Team", "data")))] == 1
    assert kpis[("Candidates", (("Priority", "low"),))] == 0
    assert kpis[("FailedPlatforms", (("Account", "2"),))] == 2 and kpis[("FailedPlatforms", (("Account", "1"),))] == 0
    assert Counter(name for name, _ in kpis)["SavingsRealizedMonthlyUSD"] == 1  # a zero, so alarms have data
