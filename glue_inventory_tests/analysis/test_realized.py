"""Savings realized: which changes between two inventories count, what they save, and the period totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from glue_inventory.analysis.actions.realized import detect_changes, realized_totals, saved_since
from glue_inventory.config import Pricing

PRICING = Pricing()
NOW = datetime(2026, 12, 10, 6, tzinfo=UTC)


def state(**fields) -> dict:
    row = {"status": "active", "worker_type": "G.1X", "number_of_workers": 10, "max_capacity": 10.0,
           "glue_version": "3.0", "execution_class": "STANDARD", "secret_argument_names": ["--db_password"],
           "monthly_projection_usd": 100.0}
    return row | fields


def kinds(events: list[dict]) -> list[tuple[str, float, float]]:
    return [(e["kind"], round(e["monthly_cost_before_usd"], 4), round(e["monthly_cost_after_usd"], 4))
            for e in events]


def test_an_unchanged_job_has_no_event() -> None:
    assert detect_changes(state(), state(), "us-east-1", PRICING) == []


def test_flex_saves_the_price_difference() -> None:
    events = detect_changes(state(), state(execution_class="FLEX"), "us-east-1", PRICING)
    assert kinds(events) == [("switch_flex", 100.0, round(100 * 0.29 / 0.44, 4))]
    assert events[0]["before"] == {"execution_class": "STANDARD"} and events[0]["after"] == {"execution_class": "FLEX"}


def test_changes_together_are_priced_one_after_the_other() -> None:
    after = state(number_of_workers=5, execution_class="FLEX", glue_version="4.0", secret_argument_names=[])
    events = detect_changes(state(), after, "us-east-1", PRICING)
    flex = 50 * 0.29 / 0.44
    assert kinds(events) == [("rightsize", 100.0, 50.0), ("switch_flex", 50.0, round(flex, 4)),
                             ("upgrade_glue_version", round(flex, 4), round(flex, 4)),
                             ("move_secrets", round(flex, 4), round(flex, 4))]
    assert events[-1]["before"] == {"secret_arguments": ["--db_password"]}  # names only, never values


def test_more_capacity_or_an_older_version_is_no_saving() -> None:
    assert detect_changes(state(), state(number_of_workers=20, glue_version="2.0"), "us-east-1", PRICING) == []


@pytest.mark.parametrize(("status", "planned", "counted"), [
    ("abandoned", (), True), ("never_run", (), True), ("active", ("delete_job",), True), ("active", (), False),
])
def test_a_vanished_job_counts_when_it_was_inactive_or_planned(status, planned, counted) -> None:
    events = detect_changes(state(status=status), None, "us-east-1", PRICING, planned)
    assert kinds(events) == ([("delete_job", 100.0, 0.0)] if counted else [])


def event(days_ago: float, saving: float, **fields) -> dict:
    return {"kind": "switch_flex", "detected_at": NOW - timedelta(days=days_ago), "monthly_cost_before_usd": 100.0,
            "monthly_cost_after_usd": 100.0 - saving, "team": "data", "account_id": "111"} | fields


def test_totals_this_month_and_last_90_days() -> None:
    events = [event(2, 30.0), event(20, 60.0, team=None, account_id="222"), event(120, 999.0)]
    totals = realized_totals(events, NOW)
    assert totals["month_to_date"]["changes"] == 1 and totals["month_to_date"]["monthly_usd"] == 30.0
    assert totals["last_90_days"]["changes"] == 2 and totals["last_90_days"]["monthly_usd"] == 90.0
    assert totals["by_team"] == {"no team tag": 60.0, "data": 30.0}
    assert totals["by_account"] == {"222": 60.0, "111": 30.0}
    # 30 $/month for 2 days; 60 $/month for 20 days.
    assert totals["last_90_days"]["saved_usd"] == pytest.approx(30 * 2 / 30 + 60 * 20 / 30)
    # This month began 9.75 days ago, before the first change: only its own 2 days count.
    assert totals["month_to_date"]["saved_usd"] == pytest.approx(2.0)


def test_saved_since_counts_only_days_in_effect() -> None:
    assert saved_since(event(10, 30.0), NOW - timedelta(days=5), NOW) == pytest.approx(5.0)
    assert saved_since(event(-1, 30.0), NOW - timedelta(days=5), NOW) == 0.0
