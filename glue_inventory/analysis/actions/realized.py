"""Savings realized: the changes a remediation plan calls for, seen between two inventories of a job, with its
monthly cost before and after, and the realized totals over a period.

A change counts whoever made it (the tool or anyone else). Its cost after is the cost before scaled the way the
change scales billing (docs/rules.md, "cost"): fewer DPUs by the DPU ratio, FLEX by the price ratio, a deleted job
to 0; a version upgrade or removed secret arguments leave the cost as it was.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from glue_inventory.analysis.candidates import INACTIVE_STATUSES
from glue_inventory.analysis.cost.dpu_estimate import capacity_dpu
from glue_inventory.analysis.status import version_tuple
from glue_inventory.config import Pricing

Row = Mapping[str, Any]
# The kinds are the remediation plan kinds; in reports they read as what happened.
LABELS = {"delete_job": "job deleted", "rightsize": "capacity reduced", "switch_flex": "switched to FLEX",
          "upgrade_glue_version": "Glue version upgraded", "move_secrets": "secret arguments removed"}
WINDOW_DAYS = 90


def _event(kind: str, before: dict, after: dict | None, cost_before: float, cost_after: float) -> dict[str, Any]:
    return {"kind": kind, "before": before, "after": after, "monthly_cost_before_usd": cost_before,
            "monthly_cost_after_usd": cost_after}


def _dpu(job: Row) -> float:
    return capacity_dpu(job.get("worker_type"), job.get("number_of_workers"), job.get("max_capacity"))


def _capacity(job: Row) -> dict[str, Any]:
    return {name: job.get(name) for name in ("worker_type", "number_of_workers", "max_capacity")}


def detect_changes(before: Row, after: Row | None, region: str, pricing: Pricing,
                   planned: Collection[str] = ()) -> list[dict[str, Any]]:
    """The remediation changes between a job's stored state (`before`: a data_jobs row with its
    `monthly_projection_usd`) and its new listing (`after`; None when it vanished from Glue). `planned`: the
    kinds of its current plans.

    A vanished job counts as deleted when a plan called for it or it was inactive: deleting a live job is usually
    a rename or a move, not a saving."""
    cost = float(before.get("monthly_projection_usd") or 0.0)
    if after is None:
        if "delete_job" in planned or before.get("status") in INACTIVE_STATUSES:
            return [_event("delete_job", {"status": before.get("status")}, None, cost, 0.0)]
        return []
    events = []
    old_dpu, new_dpu = _dpu(before), _dpu(after)
    if 0 < new_dpu < old_dpu:
        events.append(_event("rightsize", _capacity(before), _capacity(after), cost, cost * new_dpu / old_dpu))
        cost = cost * new_dpu / old_dpu
    old_class = (before.get("execution_class") or "STANDARD").upper()
    if old_class != "FLEX" and (after.get("execution_class") or "").upper() == "FLEX":
        standard = pricing.per_dpu_hour(region, old_class)
        scaled = cost * pricing.per_dpu_hour(region, "FLEX") / standard if standard else cost
        events.append(_event("switch_flex", {"execution_class": old_class}, {"execution_class": "FLEX"}, cost,
                             scaled))
        cost = scaled
    old_version, new_version = version_tuple(before.get("glue_version")), version_tuple(after.get("glue_version"))
    if old_version and new_version and new_version > old_version:
        events.append(_event("upgrade_glue_version", {"glue_version": before.get("glue_version")},
                             {"glue_version": after.get("glue_version")}, cost, cost))
    removed = sorted(set(before.get("secret_argument_names") or []) - set(after.get("secret_argument_names") or []))
    if removed:
        events.append(_event("move_secrets", {"secret_arguments": removed}, {"secret_arguments": []}, cost, cost))
    return events


def monthly_saving(event: Row) -> float:
    return float(event.get("monthly_cost_before_usd") or 0.0) - float(event.get("monthly_cost_after_usd") or 0.0)


def saved_since(event: Row, start: datetime, now: datetime) -> float:
    """USD the change has saved between `start` and `now`: its monthly saving per day (30-day month, as the
    monthly projection) over the days it has been in effect."""
    since = max(start, event["detected_at"])
    return max(0.0, monthly_saving(event) * (now - since).total_seconds() / 86400 / 30) if since < now else 0.0


def _period(events: Sequence[Row], start: datetime, now: datetime) -> dict[str, Any]:
    chosen = [event for event in events if event["detected_at"] >= start]
    return {"start": start, "changes": len(chosen), "monthly_usd": sum(map(monthly_saving, chosen)),
            "saved_usd": sum(saved_since(event, start, now) for event in chosen)}


def _by(events: Sequence[Row], field: str, missing: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for event in events:
        name = event.get(field) or missing
        totals[name] = totals.get(name, 0.0) + monthly_saving(event)
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def realized_totals(events: Sequence[Row], now: datetime) -> dict[str, Any]:
    """Savings realized: the monthly saving of the changes detected this month and in the last 90 days, what they
    have saved so far in each period, and the 90 days by kind, team and account (events carry `team`, `account_id`)."""
    recent = [event for event in events if event["detected_at"] >= now - timedelta(days=WINDOW_DAYS)]
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return {"month_to_date": _period(events, month_start, now),
            "last_90_days": _period(events, now - timedelta(days=WINDOW_DAYS), now),
            "by_kind": _by(recent, "kind", "unknown"), "by_team": _by(recent, "team", "no team tag"),
            "by_account": _by(recent, "account_id", "unknown")}
