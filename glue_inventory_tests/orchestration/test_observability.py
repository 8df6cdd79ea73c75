"""Each step records the AWS calls it made; the report sums those of the latest inventory into `tool_cost`."""

import json
from collections import Counter
from datetime import UTC, datetime

import dagster as dg
import pytest

from glue_inventory.config import ScheduleSettings
from glue_inventory.orchestration.observability import inventories_per_month
from glue_inventory.pipeline import run_pipeline
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory_tests.aws_calls import recording
from glue_inventory_tests.sim_fixtures import point_pipeline_at

PAID = {"s3:GetObject": "s3_get_requests", "ce:GetCostAndUsage": "cost_explorer_requests"}


def test_tool_cost_counts_the_paid_calls_of_the_latest_inventory_only(tmp_path, monkeypatch, sqlite_url):
    fleet = build_fleet(20, 3, datetime.now(UTC), account_id="530987654321")
    with start_simulator(fleet) as sim, dg.DagsterInstance.ephemeral() as instance:
        point_pipeline_at(monkeypatch, sim, sqlite_url, tmp_path / "reports")
        run_pipeline(instance, log=lambda _: None, deep_jobs=2)
        first = json.loads((tmp_path / "reports" / "executive.json").read_text())["tool_cost"]
        with recording() as calls:
            run_pipeline(instance, log=lambda _: None, deep_jobs=3)
        second = json.loads((tmp_path / "reports" / "executive.json").read_text())["tool_cost"]
    made = Counter(call.action for call in calls)
    assert made["s3:GetObject"] >= 3 and made["cloudwatch:GetMetricData"] >= 1
    for action, kind in PAID.items():
        assert second["calls"][kind] == made[action], kind
    assert second["calls"]["getmetricdata_metrics"] >= made["cloudwatch:GetMetricData"]
    assert second["calls"]["s3_get_requests"] > first["calls"]["s3_get_requests"]
    assert "putmetricdata_requests" not in second["calls"] and second["custom_metrics"] == 0  # no `metrics:`
    assert second["inventory_usd"] > 0


@pytest.mark.parametrize(("cron", "count"), [("0 6 * * *", 30), ("0 * * * *", 720), ("*/15 * * * *", 2880),
                                             ("0 7 * * 1", 5)])  # Mondays 2 to 30 March
def test_inventories_a_month_follow_the_refresh_cron(cron, count):
    now = datetime(2026, 3, 2, 5, 30, tzinfo=UTC)  # a Monday, before 06:00
    assert inventories_per_month(ScheduleSettings(refresh_cron=cron), now) == count
