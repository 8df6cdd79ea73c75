"""The bill next to the estimate: each job's billed cost of the window, the difference and its likely cause,
and the Glue spend that belongs to no job (crawlers, interactive sessions, development endpoints, Data Catalog).

The window is the 30 whole UTC days before today: the Cost and Usage Report bills by usage day and today's
day is never complete in it. The estimate it is compared with is the cost of the runs started on those
same days (`job_runs.estimated_cost_usd`), so a difference is never the window's edges.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from glue_inventory.analysis.cost.cur_lines import NO_RESOURCE
from glue_inventory.config import Pricing
from glue_inventory.keys import encode_partition_key

# CUR data dictionary, line_item_line_item_type: the types that are usage. Credit, Refund, Tax, Fee,
# SavingsPlanNegation and the discounts are not, though they change what is paid.
USAGE_LINE_TYPES = frozenset({"Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"})
SAVINGS_PLAN_COVERED = "SavingsPlanCoveredUsage"
CREDIT_LINE_TYPES = frozenset({"Credit", "Refund"})
# Below this the bill and the estimate agree (rounding, sub-cent usage): a cent, or 1 % of the larger.
MATCH_USD = 0.01
MATCH_FRACTION = 0.01
# "Billed far above the estimate": the executive summary names these jobs.
FAR_ABOVE_RATIO = 2.0
FAR_ABOVE_MIN_USD = 1.0

NOT_CONFIGURED = "no billing export configured (billing.cur_uri in the config file)"
KIND_LABELS = {
    "crawler": "Crawlers",
    "interactive_session": "Interactive sessions",
    "dev_endpoint": "Development endpoints",
    "data_catalog": "Data Catalog",
    "other": "Other Glue usage",
    "adjustments": "Credits, refunds, tax and fees not tied to a resource",
}
# Glue ARN resource types (`arn:aws:glue:<region>:<account>:<type>/<name>`) and the kind of spend they are.
_ARN_KINDS = {"job": "job", "crawler": "crawler", "session": "interactive_session",
              "devendpoint": "dev_endpoint", "catalog": "data_catalog", "database": "data_catalog",
              "table": "data_catalog"}
# line_item_operation values of Glue, lower-cased, for line items whose resource is not an ARN.
_OPERATION_KINDS = {"jobrun": "job", "crawlerrun": "crawler", "glueinteractivesession": "interactive_session",
                    "devendpoint": "dev_endpoint"}


def billing_window(now: datetime, days: int = 30) -> tuple[date, date]:
    """First and last usage day compared: the `days` whole UTC days before `now`'s day."""
    last = now.date() - timedelta(days=1)
    return last - timedelta(days=days - 1), last


@dataclass(frozen=True)
class Resource:
    kind: str
    account_id: str
    region: str
    name: str


def parse_resource(resource_id: str, operation: str, usage_type: str, account_id: str = "",
                   region: str = "") -> Resource:
    """What a line item's resource is: a job (with its account, Region and name), a crawler, a session, …"""
    if resource_id.startswith("arn:") and resource_id.count(":") >= 5:
        _, _, service, arn_region, arn_account, rest = resource_id.split(":", 5)
        if service == "glue":
            kind_name, _, name = rest.partition("/")
            kind = _ARN_KINDS.get(kind_name.lower())
            if kind:
                return Resource(kind, arn_account or account_id, arn_region or region, name or kind_name)
    kind = _OPERATION_KINDS.get(operation.lower())
    if kind is None:
        kind = "data_catalog" if "catalog" in usage_type.lower() else "other"
    return Resource(kind, account_id, region, resource_id)


@dataclass
class Bill:
    """One resource's line items of the window, summed."""

    usage_usd: float = 0.0  # usage line items, unblended: what the usage costs before discounts
    net_usd: float = 0.0  # every line item, net unblended where the export has it
    dpu_hours: float = 0.0
    flex_dpu_hours: float = 0.0
    savings_plan_usd: float = 0.0
    credits_usd: float = 0.0
    lines: int = 0

    def add(self, line: Mapping[str, Any]) -> None:
        unblended = float(line["unblended_cost_usd"] or 0.0)
        net = line.get("net_cost_usd")
        self.net_usd += unblended if net is None else float(net)
        self.lines += 1
        kind = line["line_item_type"]
        if kind in CREDIT_LINE_TYPES:
            self.credits_usd += unblended
        if kind not in USAGE_LINE_TYPES:
            return
        self.usage_usd += unblended
        if kind == SAVINGS_PLAN_COVERED:
            self.savings_plan_usd += unblended
        usage_type = line["usage_type"].lower()
        if usage_type.endswith("dpu-hour"):
            amount = float(line["usage_amount"] or 0.0)
            self.dpu_hours += amount
            if "flex" in usage_type:
                self.flex_dpu_hours += amount


@dataclass
class Estimate:
    """The estimate of the runs started on the window's days."""

    cost_usd: float = 0.0
    dpu_hours: float = 0.0
    flex_dpu_hours: float = 0.0


def estimates_by_job(rows: Iterable[Mapping[str, Any]], job_classes: Mapping[int, str | None]) -> dict[int, Estimate]:
    """`storage.billing.estimates_by_job` rows (per job and run execution class) as one Estimate per job;
    a run that reports no execution class ran with its job's."""
    estimates: dict[int, Estimate] = defaultdict(Estimate)
    for row in rows:
        estimate = estimates[row["data_job_id"]]
        hours = float(row["dpu_hours"] or 0.0)
        estimate.cost_usd += float(row["cost_usd"] or 0.0)
        estimate.dpu_hours += hours
        execution_class = row["execution_class"] or job_classes.get(row["data_job_id"]) or "STANDARD"
        if execution_class.upper() == "FLEX":
            estimate.flex_dpu_hours += hours
    return dict(estimates)


def _close(a: float, b: float, fraction: float = MATCH_FRACTION) -> bool:
    return abs(a - b) <= max(MATCH_USD, fraction * max(abs(a), abs(b)))


def difference_cause(bill: Bill, estimate: Estimate, region: str, pricing: Pricing, through: date) -> str:
    """The likely reason the job's bill differs from its estimate, in one sentence."""
    if _close(bill.usage_usd, estimate.cost_usd):
        cause = "matches the estimate"
    elif bill.lines == 0:
        cause = (f"no line items for this job in the export (billed through {through.isoformat()}): runs not "
                 "billed yet, or billed to an account the export does not cover")
    elif estimate.cost_usd <= 0:
        cause = "billed, but no run in our history on these days: runs Glue no longer lists, or runs by another name"
    elif _close(bill.dpu_hours, estimate.dpu_hours) and bill.dpu_hours > 0:
        if bill.flex_dpu_hours > estimate.flex_dpu_hours + MATCH_USD:
            cause = (f"FLEX discount: {bill.flex_dpu_hours - estimate.flex_dpu_hours:,.2f} DPU-hours billed at the "
                     "FLEX rate were estimated at STANDARD")
        else:
            rate = bill.usage_usd / bill.dpu_hours
            cause = (f"price table drift: billed ${rate:,.4f} per DPU-hour, configured "
                     f"${pricing.per_dpu_hour(region, 'STANDARD'):,.4f} (STANDARD) for {region}")
    elif bill.dpu_hours > estimate.dpu_hours:
        extra = bill.dpu_hours - estimate.dpu_hours
        far = " — far above the estimate" if _far_above(bill.usage_usd, estimate.cost_usd) else ""
        cause = (f"{extra:,.2f} more DPU-hours billed than our runs explain{far}: runs Glue no longer lists, "
                 "billing minimums, or capacity the runs did not report")
    else:
        cause = (f"{estimate.dpu_hours - bill.dpu_hours:,.2f} fewer DPU-hours billed than estimated: runs not "
                 "billed yet (the export lags), or minimums we apply that were not billed")
    adjustments = []
    if bill.savings_plan_usd:
        adjustments.append(f"Savings Plans cover {_usd(bill.savings_plan_usd)}")
    if bill.credits_usd:
        adjustments.append(f"credits and refunds {_usd(bill.credits_usd)}")
    if adjustments:
        cause += f"; {', '.join(adjustments)} (net {_usd(bill.net_usd)})"
    return cause


def _usd(amount: float) -> str:
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


def _far_above(billed: float, estimate: float) -> bool:
    return billed - estimate >= FAR_ABOVE_MIN_USD and billed >= FAR_ABOVE_RATIO * estimate


@dataclass
class Reconciliation:
    """Per job key: the billed fields of its metrics; and what the bill holds besides known jobs."""

    window: tuple[date, date]
    through: date | None
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    unknown_jobs: list[dict[str, Any]] = field(default_factory=list)
    not_jobs: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=dict)


def _job_fields(bill: Bill, estimate: Estimate, region: str, pricing: Pricing, through: date) -> dict[str, Any]:
    return {
        "billed_30d_usd": bill.usage_usd,
        "billed_net_30d_usd": bill.net_usd,
        "billed_dpu_hours_30d": bill.dpu_hours,
        "estimate_billed_days_usd": estimate.cost_usd,
        "billed_difference_usd": bill.usage_usd - estimate.cost_usd,
        "billed_difference_cause": difference_cause(bill, estimate, region, pricing, through),
        "billed_far_above_estimate": _far_above(bill.usage_usd, estimate.cost_usd),
        "cost_basis": "billed",
    }


def reconcile(lines: Iterable[Mapping[str, Any]], jobs: Mapping[str, Mapping[str, Any]],
              estimates: Mapping[int, Estimate], pricing: Pricing, window: tuple[date, date],
              through: date) -> Reconciliation:
    """Every job of `jobs` (key → data_job_id, region) with its bill of the window's `lines`
    (`storage.billing.window_lines`); line items of other resources sorted by what they are."""
    bills: dict[str, Bill] = defaultdict(Bill)
    others: dict[tuple[str, str], tuple[str, Bill]] = {}
    for line in lines:
        resource = parse_resource(line["resource_id"], line["operation"], line["usage_type"],
                                  line.get("account_id") or "", line.get("region") or "")
        if resource.kind == "job" and resource.account_id and resource.region:
            bills[encode_partition_key(resource.account_id, resource.region, resource.name)].add(line)
            continue
        kind = resource.kind if line["line_item_type"] in USAGE_LINE_TYPES else "adjustments"
        if kind == "job":
            kind = "other"  # a job line item that names no account or Region cannot be matched
        # Line items without a resource are told apart by what they are (Tax, Credit, Catalog-Storage).
        label = resource.name
        if label.startswith(NO_RESOURCE):
            label = line["line_item_type"] if kind == "adjustments" else line["usage_type"] or line["operation"]
        _, bill = others.setdefault((kind, label), (label, Bill()))
        bill.add(line)
    result = Reconciliation(window=window, through=through)
    for key, job in jobs.items():
        result.jobs[key] = _job_fields(bills.pop(key, Bill()), estimates.get(job["data_job_id"], Estimate()),
                                       job["region"], pricing, through)
    for key, bill in sorted(bills.items(), key=lambda item: -item[1].usage_usd):
        account_id, region, name = key.split("/", 2)
        result.unknown_jobs.append({"key": key, "job": name, "account_id": account_id, "region": region,
                                    "billed_usd": bill.usage_usd, "net_usd": bill.net_usd})
    result.not_jobs = _not_jobs(others)
    result.totals = _totals(result)
    return result


def _not_jobs(others: Mapping[tuple[str, str], tuple[str, Bill]]) -> list[dict[str, Any]]:
    by_kind: dict[str, list[tuple[str, Bill]]] = defaultdict(list)
    for (kind, _), item in others.items():
        by_kind[kind].append(item)
    lines = []
    for kind in KIND_LABELS:
        items = sorted(by_kind.get(kind, []), key=lambda item: -abs(item[1].usage_usd or item[1].net_usd))
        if not items:
            continue
        amount = (sum(bill.usage_usd for _, bill in items) if kind != "adjustments"
                  else sum(bill.net_usd for _, bill in items))
        lines.append({"kind": kind, "label": KIND_LABELS[kind], "billed_usd": amount,
                      "net_usd": sum(bill.net_usd for _, bill in items), "count": len(items),
                      "examples": [label for label, _ in items[:3]]})
    return lines


def _totals(result: Reconciliation) -> dict[str, float]:
    jobs = result.jobs.values()
    jobs_billed = math.fsum(job["billed_30d_usd"] for job in jobs)
    jobs_estimate = math.fsum(job["estimate_billed_days_usd"] for job in jobs)
    unknown = math.fsum(job["billed_usd"] for job in result.unknown_jobs)
    not_jobs = math.fsum(line["billed_usd"] for line in result.not_jobs if line["kind"] != "adjustments")
    adjustments = math.fsum(line["billed_usd"] for line in result.not_jobs if line["kind"] == "adjustments")
    net = (math.fsum(job["billed_net_30d_usd"] for job in jobs) + math.fsum(j["net_usd"] for j in result.unknown_jobs)
           + math.fsum(line["net_usd"] for line in result.not_jobs))
    return {"jobs_billed_usd": jobs_billed, "jobs_estimate_usd": jobs_estimate,
            "jobs_difference_usd": jobs_billed - jobs_estimate, "unknown_jobs_billed_usd": unknown,
            "not_jobs_billed_usd": not_jobs, "adjustments_usd": adjustments,
            "billed_total_usd": jobs_billed + unknown + not_jobs, "net_total_usd": net}
