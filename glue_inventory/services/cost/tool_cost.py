"""The inventory's own AWS charges for the executive report: the calls of its earlier steps (recorded by the
Dagster layer), the report step's own, and the KPIs it is about to publish."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from glue_inventory.analysis.cost.tool_cost import tool_cost
from glue_inventory.analysis.kpis import HEALTH_KPIS
from glue_inventory.aws.cloudwatch import MAX_DATUMS_PER_PUT
from glue_inventory.config import Settings
from glue_inventory.services.kpis import current_kpis
from glue_inventory.storage.repository import Bind


@dataclass
class ToolUsage:
    """What the inventory called before the report step, how to read the report step's own calls (read after
    Cost Explorer answered), the bill's bytes read and the refreshes a month at the configured schedule."""

    earlier: Mapping[str, int]
    own: Callable[[], Mapping[str, int]]
    cur_bytes: int
    inventories_per_month: float


def inventory_tool_cost(bind: Bind, settings: Settings, usage: ToolUsage, now: datetime) -> dict:
    """`tool_cost` of executive.json (analysis.tool_cost), with the KPIs' PutMetricData requests and the custom
    metrics they keep alive when `metrics:` publishes them (the hourly health KPIs included)."""
    calls = Counter(usage.earlier) + Counter(usage.own())
    custom_metrics = 0
    if settings.metrics.cloudwatch_namespace:
        kpis = len(current_kpis(bind, now, settings.metrics.dimensions))
        calls["cloudwatch:PutMetricData"] += math.ceil(kpis / MAX_DATUMS_PER_PUT)
        custom_metrics = kpis + len(HEALTH_KPIS)
    return tool_cost(calls, custom_metrics, usage.cur_bytes, settings.tool_cost, usage.inventories_per_month)
