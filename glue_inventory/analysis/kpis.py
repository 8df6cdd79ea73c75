"""The KPIs published to CloudWatch after each inventory, for dashboards and alarms.

Every KPI is published for the whole fleet (no dimension) and, as `metrics.dimensions` says, per `Account`
(`account`, the default) and per `Account` and `Team` (`account_team`, the team tag), because CloudWatch never
adds series up across dimensions: an alarm on the fleet total needs the total's own series. `Candidates` also
carries `Priority`; `FailedPlatforms` has no team. Each series is a custom metric, billed by the month.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from glue_inventory.analysis.cost.savings import IDENTIFIED_BASES, RULE_OF_THUMB

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
    # Health of the tool itself (`health_kpis`), published every hour by the freshness checks.
    "InventoryAgeHours": "None",
    "LastRunSucceeded": "None",
}
PRIORITIES = ("critical", "high", "medium", "low")
HEALTH_KPIS = ("InventoryAgeHours", "LastRunSucceeded")


@dataclass(frozen=True)
class Kpi:
    name: str
    dimensions: tuple[tuple[str, str], ...]
    value: float

    @property
    def unit(self) -> str:
        return UNITS[self.name]


def _levels(account: str, team: str | None, levels: Collection[str]) -> list[tuple[tuple[str, str], ...]]:
    found: list[tuple[tuple[str, str], ...]] = [()]
    if "account" in levels:
        found.append((("Account", account),))
    if "account_team" in levels:
        found.append((("Account", account), ("Team", team or NO_TEAM)))
    return found


def _adder(totals: dict, levels: Collection[str]) -> Callable[..., None]:
    def add(name: str, account: str, team: str | None, value: float, extra: tuple = ()) -> None:
        for dimensions in _levels(account, team, levels):
            totals[(name, (*extra, *dimensions))] += value

    return add


def fleet_kpis(jobs: Sequence[Row], candidates: Sequence[Row], realized: Sequence[Row],
               failed_platform_accounts: Iterable[str], billed_by_key: Mapping[str, float] | None,
               levels: Collection[str] = ("account",)) -> list[Kpi]:
    """KPIs from the jobs ({key, account_id, team, status, monthly_projection_usd}; spend counts deleted jobs'
    window too, as every report does), the current candidates ({key,
    priority, savings_by_basis}), the realized changes of the last 90 days ({account_id, team,
    monthly saving as `monthly_savings_usd`}), the accounts of failed platforms, and the billed monthly spend per
    job key (None when no bill is loaded: the KPI is then left out rather than published as 0), at the `levels`
    of `metrics.dimensions`."""
    totals: dict[tuple[str, tuple], float] = defaultdict(float)
    add = _adder(totals, levels)
    team_of = {job["key"]: (job["account_id"], job.get("team")) for job in jobs}
    accounts = {account for account, _ in team_of.values()}
    for job in jobs:
        if job.get("status") != "deleted":
            add("LiveJobs", job["account_id"], job.get("team"), 1)
        add("EstimatedMonthlySpendUSD", job["account_id"], job.get("team"),
             float(job.get("monthly_projection_usd") or 0.0))
        if billed_by_key is not None:
            add("BilledMonthlySpendUSD", job["account_id"], job.get("team"),
                 float(billed_by_key.get(job["key"], 0.0)))
    for candidate in candidates:
        account, team = team_of.get(candidate["key"], (candidate["key"].split("/", 1)[0], None))
        by_basis = candidate.get("savings_by_basis") or {}
        add("SavingsIdentifiedMonthlyUSD", account, team,
            sum(float(by_basis.get(basis) or 0.0) for basis in IDENTIFIED_BASES))
        add("SavingsPotentialMonthlyUSD", account, team, float(by_basis.get(RULE_OF_THUMB) or 0.0))
        if candidate.get("priority") in PRIORITIES:
            add("Candidates", account, team, 1, (("Priority", candidate["priority"]),))
    for event in realized:
        add("SavingsRealizedMonthlyUSD", event["account_id"], event.get("team"),
             float(event.get("monthly_savings_usd") or 0.0))
    # Zeros are published too: an alarm needs datapoints, and "0 failed platforms" is one.
    for name in ("SavingsRealizedMonthlyUSD", "SavingsIdentifiedMonthlyUSD", "SavingsPotentialMonthlyUSD"):
        totals[(name, ())] += 0.0
    for priority in PRIORITIES:
        totals[("Candidates", (("Priority", priority),))] += 0
    failed = list(failed_platform_accounts)
    for account in (accounts | set(failed)) if "account" in levels else ():
        totals[("FailedPlatforms", (("Account", account),))] += failed.count(account)
    totals[("FailedPlatforms", ())] += len(failed)
    return [Kpi(name, dimensions, value) for (name, dimensions), value in sorted(totals.items())]


def health_kpis(inventory_age_hours: float | None, last_run_succeeded: bool | None) -> list[Kpi]:
    """The tool's own health, fleet-wide: hours since the last executive report, and whether the latest finished
    run succeeded (1) or failed (0); an unknown value is left out (an alarm treats missing data as breaching)."""
    kpis = []
    if inventory_age_hours is not None:
        kpis.append(Kpi("InventoryAgeHours", (), round(inventory_age_hours, 2)))
    if last_run_succeeded is not None:
        kpis.append(Kpi("LastRunSucceeded", (), 1.0 if last_run_succeeded else 0.0))
    return kpis
