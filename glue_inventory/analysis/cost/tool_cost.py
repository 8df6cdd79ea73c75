"""What an inventory costs in AWS charges: the paid calls it made, priced from `tool_cost:` in the config.

Calls are counted as `service:Operation` (botocore's names) by `aws.clients.CallCounter`; Glue, STS,
Organizations and the tagging API cost nothing and are not listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glue_inventory.config import ToolCostPrices

GIB = 1024**3
# Counted call or unit → (kind in `tool_cost.calls`, its price field in ToolCostPrices).
PAID: dict[str, tuple[str, str]] = {
    "ce:GetCostAndUsage": ("cost_explorer_requests", "cost_explorer_request"),
    "ce:GetCostForecast": ("cost_explorer_requests", "cost_explorer_request"),
    "ce:GetDimensionValues": ("cost_explorer_requests", "cost_explorer_request"),
    "cloudwatch:GetMetricData.metrics": ("getmetricdata_metrics", "getmetricdata_metric"),
    "cloudwatch:GetMetricStatistics": ("cloudwatch_requests", "cloudwatch_request"),
    "cloudwatch:ListMetrics": ("cloudwatch_requests", "cloudwatch_request"),
    "cloudwatch:PutMetricData": ("putmetricdata_requests", "cloudwatch_request"),
    "s3:GetObject": ("s3_get_requests", "s3_get_request"),
    "s3:HeadObject": ("s3_get_requests", "s3_get_request"),
    "s3:ListObjectsV2": ("s3_list_requests", "s3_list_request"),
    "s3:ListObjects": ("s3_list_requests", "s3_list_request"),
}


def paid_calls(calls: Mapping[str, int]) -> dict[str, int]:
    """The paid calls among `calls` (`service:Operation` → count), by kind."""
    kinds: dict[str, int] = {}
    for name, count in calls.items():
        if name in PAID and count:
            kind = PAID[name][0]
            kinds[kind] = kinds.get(kind, 0) + int(count)
    return dict(sorted(kinds.items()))


def tool_cost(calls: Mapping[str, int], custom_metrics: int, cur_bytes: int, prices: ToolCostPrices,
              inventories_per_month: float) -> dict[str, Any]:
    """`tool_cost` of executive.json: the inventory's charges, a month of them at the schedule, calls by kind.

    The custom metrics the KPIs keep alive are billed by the month whatever the schedule: a month holds them
    once, an inventory its share of them.
    """
    requests = sum(count * getattr(prices, PAID[name][1]) for name, count in calls.items() if name in PAID)
    requests += cur_bytes / GIB * prices.cur_scanned_gb
    metrics_month = custom_metrics * prices.custom_metric_month
    per_month = max(inventories_per_month, 0.0)
    inventory = requests + (metrics_month / per_month if per_month else 0.0)
    return {
        "inventory_usd": round(inventory, 4),
        "monthly_usd": round(requests * per_month + metrics_month, 2),
        "calls": paid_calls(calls),
        "custom_metrics": custom_metrics,
        "cur_bytes_scanned": cur_bytes,
        "inventories_per_month": round(per_month, 2),
        "prices_date": prices.prices_date,
    }
