"""The inventory's own AWS charges from counted calls and the price table."""

import pytest

from glue_inventory.analysis.cost.tool_cost import GIB, paid_calls, tool_cost
from glue_inventory.config import ToolCostPrices

CALLS = {"glue:GetJobRuns": 10_000, "glue:GetJobs": 12, "sts:GetCallerIdentity": 1, "ce:GetCostAndUsage": 3,
         "cloudwatch:GetMetricData": 4, "cloudwatch:GetMetricData.metrics": 1_400, "s3:GetObject": 50,
         "s3:ListObjectsV2": 2, "cloudwatch:PutMetricData": 1}


def test_only_paid_calls_are_listed_by_kind():
    assert paid_calls(CALLS) == {"cost_explorer_requests": 3, "getmetricdata_metrics": 1_400,
                                 "putmetricdata_requests": 1, "s3_get_requests": 50, "s3_list_requests": 2}


def test_an_inventory_and_a_month_of_them_at_list_prices():
    cost = tool_cost(CALLS, custom_metrics=18, cur_bytes=2 * GIB, prices=ToolCostPrices(), inventories_per_month=30)
    requests = 3 * 0.01 + 1_400 * 0.00001 + 1 * 0.00001 + 50 * 0.0000004 + 2 * 0.000005
    assert cost["inventory_usd"] == pytest.approx(round(requests + 18 * 0.30 / 30, 4))
    assert cost["monthly_usd"] == pytest.approx(round(requests * 30 + 18 * 0.30, 2))
    assert cost["cur_bytes_scanned"] == 2 * GIB and cost["prices_date"] == ToolCostPrices().prices_date


def test_bytes_read_from_the_bill_cost_what_the_table_says():
    prices = ToolCostPrices(cur_scanned_gb=0.09)  # read from outside the bucket's Region
    assert tool_cost({}, 0, 10 * GIB, prices, 30)["inventory_usd"] == pytest.approx(0.9)
    assert tool_cost({}, 0, 10 * GIB, ToolCostPrices(), 30)["inventory_usd"] == 0


def test_without_a_schedule_a_month_holds_the_metrics_alone():
    cost = tool_cost({"ce:GetCostAndUsage": 1}, 10, 0, ToolCostPrices(), inventories_per_month=0)
    assert cost["inventory_usd"] == 0.01 and cost["monthly_usd"] == 3.0
