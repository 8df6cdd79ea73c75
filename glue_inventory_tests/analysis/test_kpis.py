"""KPIs from plain rows: the levels of dimensions `metrics.dimensions` asks for, zeros where an alarm needs data,
billed only when known; how many custom metrics each setting keeps alive."""

from __future__ import annotations

from collections import Counter

import pytest

from glue_inventory.analysis.kpis import NO_TEAM, PRIORITIES, fleet_kpis

JOBS = [{"key": "1/r/a", "account_id": "1", "team": "data", "monthly_projection_usd": 10.0},
                {"key": "1/r/b", "account_id": "1", "team": None, "monthly_projection_usd": 5.0},
            {"key": "2/r/c", "account_id": "2", "team": "data", "monthly_projection_usd": 1.0}]
CANDIDATES = [{"key": "1/r/a", "priority": "critical", "estimated_monthly_savings_usd": 3.0}]


def test_kpis_of_plain_rows():
    kpis = {(k.name, k.dimensions): k.value
            for k in fleet_kpis(JOBS, CANDIDATES, [], ["2", "2"], {"1/r/a": 12.5}, ("account", "account_team"))}
    assert kpis[("LiveJobs", ())] == 3
    assert kpis[("EstimatedMonthlySpendUSD", (("Account", "1"), ("Team", NO_TEAM)))] == 5.0
    assert kpis[("BilledMonthlySpendUSD", (("Account", "1"),))] == 12.5
    assert kpis[("Candidates", (("Priority", "critical"), ("Account", "1"), ("Team", "data")))] == 1
    assert kpis[("Candidates", (("Priority", "low"),))] == 0
    assert kpis[("FailedPlatforms", (("Account", "2"),))] == 2 and kpis[("FailedPlatforms", (("Account", "1"),))] == 0
    assert Counter(name for name, _ in kpis)["SavingsRealizedMonthlyUSD"] == 1  # a zero, so alarms have data


def test_the_default_publishes_the_fleet_and_each_account_but_no_team():
    kpis = fleet_kpis(JOBS, CANDIDATES, [], [], None)
    assert {name for kpi in kpis for name, _ in kpi.dimensions} == {"Account", "Priority"}
    assert {kpi.dimensions for kpi in fleet_kpis(JOBS, CANDIDATES, [], [], None, ())} == {
        (), *((("Priority", priority),) for priority in PRIORITIES)}


def _fleet(accounts: int, teams: int) -> tuple[list[dict], list[dict], list[dict]]:
    """Every account has a job of every team, a candidate of every priority and a realized saving."""
    jobs, candidates, realized = [], [], []
    for account in range(accounts):
        for team in range(teams):
            key = f"{account:012d}/r/t{team}"
            jobs.append({"key": key, "account_id": f"{account:012d}", "team": f"t{team}", "monthly_projection_usd": 1})
            realized.append({"account_id": f"{account:012d}", "team": f"t{team}", "monthly_savings_usd": 1.0})
            candidates += [{"key": key, "priority": p, "savings_by_basis": {"exact": 1.0, "rule_of_thumb": 1.0}}
                           for p in PRIORITIES]
    return jobs, candidates, realized


@pytest.mark.parametrize(("levels", "accounts", "teams", "most"), [
    (("account",), 1, 1, 10 + 10),
    (("account",), 40, 5, 10 + 10 * 40),
    (("account", "account_team"), 40, 5, 10 + 10 * 40 + 9 * 40 * 5),
    (("account_team",), 3, 2, 10 + 9 * 3 * 2),
])
def test_custom_metrics_per_setting_are_at_most_as_documented(levels, accounts, teams, most):
    """docs/OBSERVABILITY.md: without a bill, 10 for the fleet, 10 per account, 9 per account and team (one more
    each with a bill loaded, FailedPlatforms aside)."""
    jobs, candidates, realized = _fleet(accounts, teams)
    assert len(fleet_kpis(jobs, candidates, realized, [], None, levels)) == most
    with_bill = len(fleet_kpis(jobs, candidates, realized, [], {}, levels))
    assert with_bill == most + 1 + accounts * ("account" in levels) + accounts * teams * ("account_team" in levels)
