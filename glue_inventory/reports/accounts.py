"""The executive numbers by account and by OU, and the health of every platform (account × Region)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from glue_inventory.analysis.cost.savings import IDENTIFIED_BASES
from glue_inventory.keys import ALL_REGIONS
from glue_inventory.reports.formatting import cents, iso

Row = Mapping[str, Any]
NO_OU = "(no OU: configured under platforms:)"


SUMS = ("live_jobs", "monthly_projection_usd", "failed_runs_cost_30d_usd", "candidates", "savings_monthly_usd")
MONEY = ("monthly_projection_usd", "failed_runs_cost_30d_usd", "savings_monthly_usd")


def _blank(account_id: str, name: str | None, ou_path: str | None) -> dict[str, Any]:
    return {"account_id": account_id, "account_name": name, "ou_path": ou_path, **dict.fromkeys(SUMS, 0)}


def _by_account(jobs: Sequence[Row], candidates: Sequence[Row], platforms: Sequence[Row]) -> dict[str, dict]:
    known = {p["account_id"]: (p.get("account_name"), p.get("ou_path")) for p in platforms}
    accounts: dict[str, dict[str, Any]] = {}

    def entry(account_id: str) -> dict[str, Any]:
        if account_id not in accounts:
            accounts[account_id] = _blank(account_id, *known.get(account_id, (None, None)))
        return accounts[account_id]

    for job in jobs:
        if job.get("status") == "deleted":
            continue
        row = entry(job["account_id"])
        row["live_jobs"] += 1
        row["monthly_projection_usd"] += job.get("monthly_projection_usd") or 0.0
        row["failed_runs_cost_30d_usd"] += job.get("failed_cost_30d_usd") or 0.0
    for candidate in candidates:
        row = entry(candidate["key"].split("/", 1)[0])
        row["candidates"] += 1
        # Savings identified (measured + exact): the rule of thumb stays out of every total.
        row["savings_monthly_usd"] += sum((candidate.get("savings_by_basis") or {}).get(b) or 0.0
                                          for b in IDENTIFIED_BASES)
    return accounts


def _money(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, **{key: cents(row[key]) for key in MONEY}}


def _by_ou(accounts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    ous: dict[str, dict[str, Any]] = {}
    for account in accounts:
        path = account["ou_path"] or NO_OU
        row = ous.setdefault(path, {"ou_path": path, "accounts": 0, **dict.fromkeys(SUMS, 0)})
        row["accounts"] += 1
        for key in SUMS:
            row[key] += account[key]
    return [_money(row) for row in sorted(ous.values(), key=lambda r: (-r["monthly_projection_usd"], r["ou_path"]))]


def _health(platforms: Sequence[Row]) -> dict[str, Any]:
    failed = [p for p in platforms if p["status"] == "failed"]
    skipped = [p for p in platforms if p["status"] == "skipped"]
    reached = {p["account_id"] for p in platforms if p["status"] == "ok"}
    return {
        "accounts_reached": len(reached),
        "platforms_ok": sum(1 for p in platforms if p["status"] == "ok"),
        "platforms": [{"account_id": p["account_id"], "account_name": p.get("account_name"),
                       "ou_path": p.get("ou_path"), "region": None if p["region"] == ALL_REGIONS else p["region"],
                       "status": p["status"], "reason": p.get("last_error"), "source": p.get("source"),
                       "checked_at": iso(p.get("last_synced_at")), "learned_rates": p.get("learned_rates") or []}
                      for p in sorted(platforms, key=lambda p: (p["status"] == "ok", p["account_id"], p["region"]))],
        "failed": len(failed),
        "skipped": len(skipped),
    }


def account_numbers(jobs: Sequence[Row], candidates: Sequence[Row], platforms: Sequence[Row]) -> dict[str, Any]:
    """Spend, waste (the cost of failed runs) and candidates by account and by OU; the platform health table.
    An account's name and OU path come from `platforms` (Organizations said them)."""
    accounts = sorted(_by_account(jobs, candidates, platforms).values(),
                      key=lambda a: (-a["monthly_projection_usd"], a["account_id"]))
    return {
        "by_account": [_money(a) for a in accounts],
        "by_ou": _by_ou(accounts) if any(a["ou_path"] for a in accounts) else [],
        "health": _health(platforms),
    }
