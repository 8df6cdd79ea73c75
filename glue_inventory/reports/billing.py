"""The bill in the reports: estimate vs billed per job, the jobs billed far above their estimate, the Glue
spend that is not jobs, and why there is no bill when there is none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from glue_inventory.analysis.cost.reconcile import NOT_CONFIGURED
from glue_inventory.reports.formatting import cents

Row = Mapping[str, Any]
# Jobs listed with their difference, and jobs not in the inventory, in the executive summary (the JSON and the
# inventory files hold them all).
TOP_DIFFERENCES = 10
TOTALS = ("jobs_billed_usd", "jobs_estimate_usd", "jobs_difference_usd", "unknown_jobs_billed_usd",
          "not_jobs_billed_usd", "adjustments_usd", "billed_total_usd", "net_total_usd")
JOB_BILLED_MONEY = ("billed_30d_usd", "billed_net_30d_usd", "estimate_billed_days_usd", "billed_difference_usd")


def _job(job: Row) -> dict[str, Any]:
    return {"key": job["key"], "job": job.get("name"), "account_id": job.get("account_id"),
            "region": job.get("region"), "status": job.get("status"),
            "estimate_usd": cents(job.get("estimate_billed_days_usd")), "billed_usd": cents(job.get("billed_30d_usd")),
            "difference_usd": cents(job.get("billed_difference_usd")), "cause": job.get("billed_difference_cause"),
            "report_path": (job.get("deep") or {}).get("report_path")}


def _unknown_by_account(unknown: Sequence[Row], platforms: Sequence[Row]) -> list[dict[str, Any]]:
    """Jobs billed but not in the inventory, per account, with why the inventory does not have them: the
    account's platforms failed or were skipped (their reason), or the job went before it was listed."""
    by_account: dict[str, dict[str, Any]] = {}
    for job in unknown:
        entry = by_account.setdefault(job["account_id"], {"account_id": job["account_id"], "jobs": 0,
                                                          "billed_usd": 0.0})
        entry["jobs"] += 1
        entry["billed_usd"] += job["billed_usd"]
    for account_id, entry in by_account.items():
        rows = [p for p in platforms if p.get("account_id") == account_id]
        entry["account_name"] = next((p.get("account_name") for p in rows if p.get("account_name")), None)
        if any(p.get("status") == "ok" for p in rows):
            entry["why"] = "the account is inventoried: jobs deleted before they were listed, or in a Region not listed"
        elif rows:
            entry["why"] = f"the account is not inventoried: {rows[0].get('last_error') or rows[0].get('status')}"
        else:
            entry["why"] = "the account is not configured"
        entry["billed_usd"] = cents(entry["billed_usd"])
    return sorted(by_account.values(), key=lambda entry: (-entry["billed_usd"], entry["account_id"]))


def billing_numbers(billing: Row | None, jobs: Sequence[Row], platforms: Sequence[Row] = ()) -> dict[str, Any]:
    """The `billing` section of the executive numbers, from the bill's summary (services.billing), the job
    rows carrying each job's billed fields and the platforms (why an account's jobs are not in the inventory);
    `available` False with the reason when there is no bill."""
    if not billing or not billing.get("available"):
        return {"available": False, "reason": (billing or {}).get("reason") or NOT_CONFIGURED}
    billed = [job for job in jobs if job.get("billed_30d_usd") is not None]
    differing = sorted((job for job in billed if abs(job.get("billed_difference_usd") or 0) >= 0.01),
                       key=lambda job: (-abs(job["billed_difference_usd"]), job["key"]))
    totals = billing.get("totals") or {}
    return {
        "available": True,
        "reason": None,
        "period": dict(billing["window"]),
        "through": billing.get("through"),
        **{name: cents(totals.get(name)) for name in TOTALS},
        "jobs_billed": len([job for job in billed if job.get("billed_30d_usd")]),
        "far_above": [_job(job) for job in differing if job.get("billed_far_above_estimate")],
        "largest_differences": [_job(job) for job in differing[:TOP_DIFFERENCES]],
        "jobs_differing": len(differing),
        "not_jobs": [{"kind": line["kind"], "label": line["label"], "billed_usd": cents(line["billed_usd"]),
                      "count": line["count"], "examples": list(line["examples"])}
                     for line in billing.get("not_jobs") or []],
        "unknown_jobs": [{**line, "billed_usd": cents(line["billed_usd"]), "net_usd": cents(line["net_usd"])}
                         for line in billing.get("unknown_jobs") or []],
        "unknown_accounts": _unknown_by_account(billing.get("unknown_jobs") or [], platforms),
    }
