"""The KPIs published to CloudWatch after each inventory, for dashboards and alarms.

Every KPI is published three times: for the whole fleet (no dimension), per `Account`, and per `Account` and
`Team` (the team tag), because CloudWatch never adds series up across dimensions: an alarm on the fleet total
needs the total's own series. `Candidates` also carries `Priority`; `FailedPlatforms` has no team.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from glue_inventory.analysis.savings import IDENTIFIED_BASES, RULE_OF_THUMB

Row = Mapping[str, Any]
NO_TEAM = "(no team tag)"
# KPI name → CloudWatch unit; money is in USD per month, which CloudWatch has no unit for.
UNITS = {
    "LiveJobs": "Count",
    "EstimatedMonthlySpendUSD": "None",
    "BilledMonthlySpendUSD": "None",
    "SavingsIdentifiedMonthlyUSD": "None",  # measured + exact (analysis.savings)
    "SavingsPotentialMonthlyUSD": "None",  # rule of thumb, not yet measured: never in the one above
    "SavingsRealizedMonthlyUSD": "None",
    "Candidates": "Count",
    "FailedPlatforms": "Count",
}
PRIORITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Kpi:
    name: str
    dimensions: tuple[tuple[str, str], ...]
    value: float

    @property
    def unit(self) -> str:
        return UNITS[self.name]


def _levels(account: str, team: str | None) -> list[tuple[tuple[str, str], ...]]:
    return [(), (("Account", account),), (("Account", account), ("Team", team or NO_TEAM))]


def _add(totals: dict, name: str, account: str, team: str | None, value: float, extra: tuple = ()) -> None:
    for dimensions in _levels(account, team):
        totals[(name, (*extra, *dimensions))] += value


def fleet_kpis(jobs: Sequence[Row], candidates: Sequence[Row], realized: Sequence[Row],
               failed_platform_accounts: Iterable[str], billed_by_key: Mapping[str, float] | None) -> list[Kpi]:
    """KPIs from the live jobs ({key, account_id, team, monthly_projection_usd}), the current candidates ({key,
    priority, savings_by_basis}), the realized changes of the last 90 days ({account_id, team,
    monthly saving as `monthly_savings_usd`}), the accounts of failed platforms, and the billed monthly spend per
    job key (None when no bill is loaded: the KPI is then left out rather than published as 0)."""
    totals: dict[tuple[str, tuple], float] = defaultdict(float)
    team_of = {job["key"]: (job["account_id"], job.get("team")) for job in jobs}
    accounts = {account for account, _ in team_of.values()}
    for job in jobs:
        _add(totals, "LiveJobs", job["account_id"], job.get("team"), 1)
        _add(totals, "EstimatedMonthlySpendUSD", job["account_id"], job.get("team"),
             float(job.get("monthly_projection_usd") or 0.0))
        if billed_by_key is not None:
            _add(totals, "BilledMonthlySpendUSD", job["account_id"], job.get("team"),
                 float(billed_by_key.get(job["key"], 0.0)))
    for candidate in candidates:
        account, team = team_of.get(candidate["key"], (candidate["key"].split("/", 1)[0], None))
        by_basis = candidate.get("savings_by_basis") or {}
        _add(totals, "SavingsIdentifiedMonthlyUSD", account, team,
             sum(float(by_basis.get(basis) or 0.0) for basis in IDENTIFIED_BASES))
        _add(totals, "SavingsPotentialMonthlyUSD", account, team, float(by_basis.get(RULE_OF_THUMB) or 0.0))
        if candidate.get("priority") in PRIORITIES:
            _add(totals, "Candidates", account, team, 1, (("Priority", candidate["priority"]),))
    for event in realized:
        _add(totals, "SavingsRealizedMonthlyUSD", event["account_id"], event.get("team"),
             float(event.get("monthly_savings_usd") or 0.0))
    # Zeros are published too: an alarm needs datapoints, and "0 failed platforms" is one.
    for name in ("SavingsRealizedMonthlyUSD", "SavingsIdentifiedMonthlyUSD", "SavingsPotentialMonthlyUSD"):
        totals[(name, ())] += 0.0
    for priority in PRIORITIES:
        totals[("Candidates", (("Priority", priority),))] += 0
    failed = list(failed_platform_accounts)
    for account in accounts | set(failed):
        totals[("FailedPlatforms", (("Account", account),))] += failed.count(account)
    totals[("FailedPlatforms", ())] += len(failed)
    return [Kpi(name, dimensions, value) for (name, dimensions), value in sorted(totals.items())]
