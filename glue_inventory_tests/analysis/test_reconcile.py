"""The bill next to the estimate: window, resources, the likely cause of a difference, spend that is not jobs."""

from datetime import UTC, date, datetime

import pytest

from glue_inventory.analysis.cost.reconcile import (
    Bill,
    Estimate,
    billing_window,
    difference_cause,
    estimates_by_job,
    parse_resource,
    reconcile,
)
from glue_inventory.config import Pricing

ACCOUNT = "111122223333"
THROUGH = date(2026, 11, 30)
WINDOW = (date(2026, 11, 1), date(2026, 11, 30))


def test_window_is_the_30_whole_days_before_today():
    assert billing_window(datetime(2026, 12, 1, 8, 30, tzinfo=UTC)) == WINDOW
    assert billing_window(datetime(2026, 3, 1, tzinfo=UTC), days=7) == (date(2026, 2, 22), date(2026, 2, 28))


@pytest.mark.parametrize(("resource_id", "operation", "usage_type", "expected"), [
    (f"arn:aws:glue:us-east-1:{ACCOUNT}:job/orders/daily", "JobRun", "USE1-ETL-DPU-Hour",
     ("job", ACCOUNT, "us-east-1", "orders/daily")),
    (f"arn:aws-cn:glue:cn-north-1:{ACCOUNT}:job/x", "JobRun", "CNN1-ETL-DPU-Hour", ("job", ACCOUNT, "cn-north-1", "x")),
    (f"arn:aws:glue:eu-west-1:{ACCOUNT}:crawler/raw", "CrawlerRun", "EU-Crawler-DPU-Hour",
     ("crawler", ACCOUNT, "eu-west-1", "raw")),
    (f"arn:aws:glue:us-east-1:{ACCOUNT}:session/s-1", "GlueInteractiveSession", "", ("interactive_session",
                                                                                     ACCOUNT, "us-east-1", "s-1")),
    (f"arn:aws:glue:us-east-1:{ACCOUNT}:devEndpoint/dev", "DevEndpoint", "", ("dev_endpoint", ACCOUNT,
                                                                              "us-east-1", "dev")),
    (f"arn:aws:glue:us-east-1:{ACCOUNT}:catalog", "Storage", "USE1-Catalog-Storage",
     ("data_catalog", ACCOUNT, "us-east-1", "catalog")),
    ("(no resource) 1/us-east-1", "Storage", "USE1-Catalog-Request",
     ("data_catalog", "1", "r", "(no resource) 1/us-east-1")),
    ("sess-42", "GlueInteractiveSession", "", ("interactive_session", "1", "r", "sess-42")),
    ("something", "DataBrewJob", "USE1-DataBrew-Node-Hour", ("other", "1", "r", "something")),
])
def test_what_a_line_item_resource_is(resource_id, operation, usage_type, expected):
    resource = parse_resource(resource_id, operation, usage_type, "1", "r")
    assert (resource.kind, resource.account_id, resource.region, resource.name) == expected


PRICING = Pricing()


def _bill(usage: float, hours: float, flex_hours: float = 0.0, lines: int = 1, **extra) -> Bill:
    return Bill(usage_usd=usage, net_usd=extra.pop("net", usage), dpu_hours=hours, flex_dpu_hours=flex_hours,
                lines=lines, **extra)


@pytest.mark.parametrize(("bill", "estimate", "starts"), [
    (_bill(44.0, 100), Estimate(44.0, 100), "matches the estimate"),
    (_bill(44.004, 100), Estimate(44.0, 100), "matches the estimate"),
    (Bill(), Estimate(44.0, 100), "no line items for this job in the export (billed through 2026-11-30)"),
    (_bill(10.0, 20), Estimate(), "billed, but no run in our history"),
    (_bill(29.0, 100, flex_hours=100), Estimate(44.0, 100), "FLEX discount: 100.00 DPU-hours"),
    (_bill(48.0, 100), Estimate(44.0, 100), "price table drift: billed $0.4800 per DPU-hour, configured $0.4400"),
    (_bill(88.0, 200), Estimate(44.0, 100), "100.00 more DPU-hours billed than our runs explain — far above"),
    (_bill(48.4, 110), Estimate(44.0, 100), "10.00 more DPU-hours billed than our runs explain: runs Glue"),
    (_bill(22.0, 50), Estimate(44.0, 100), "50.00 fewer DPU-hours billed than estimated"),
])
def test_likely_cause_of_a_difference(bill, estimate, starts):
    assert difference_cause(bill, estimate, "us-east-1", PRICING, THROUGH).startswith(starts)


def test_savings_plans_and_credits_are_named_with_the_net():
    bill = _bill(44.0, 100, net=14.0, savings_plan_usd=20.0, credits_usd=-10.0)
    cause = difference_cause(bill, Estimate(44.0, 100), "us-east-1", PRICING, THROUGH)
    assert cause == ("matches the estimate; Savings Plans cover $20.00, credits and refunds -$10.00 (net $14.00)")


def test_estimates_use_the_jobs_execution_class_when_a_run_has_none():
    rows = [{"data_job_id": 1, "execution_class": None, "dpu_hours": 10.0, "cost_usd": 2.9},
            {"data_job_id": 1, "execution_class": "STANDARD", "dpu_hours": 1.0, "cost_usd": 0.44},
            {"data_job_id": 2, "execution_class": None, "dpu_hours": 3.0, "cost_usd": 1.32}]
    estimates = estimates_by_job(rows, {1: "FLEX", 2: None})
    assert (estimates[1].cost_usd, estimates[1].dpu_hours, estimates[1].flex_dpu_hours) == (3.34, 11.0, 10.0)
    assert estimates[2].flex_dpu_hours == 0.0


def _line(resource: str, line_type: str = "Usage", usage_type: str = "USE1-ETL-DPU-Hour", usd: float = 4.4,
          hours: float = 10.0, operation: str = "JobRun", net: float | None = None) -> dict:
    return {"resource_id": resource, "operation": operation, "usage_type": usage_type, "line_item_type": line_type,
            "account_id": ACCOUNT, "region": "us-east-1", "usage_amount": hours, "unblended_cost_usd": usd,
            "net_cost_usd": net}


def _arn(kind: str, name: str) -> str:
    return f"arn:aws:glue:us-east-1:{ACCOUNT}:{kind}/{name}"


def test_reconcile_jobs_unknown_jobs_and_what_is_not_jobs():
    jobs = {f"{ACCOUNT}/us-east-1/a": {"data_job_id": 1, "region": "us-east-1"},
            f"{ACCOUNT}/us-east-1/b": {"data_job_id": 2, "region": "us-east-1"},
            f"{ACCOUNT}/us-east-1/idle": {"data_job_id": 3, "region": "us-east-1"}}
    lines = [
        _line(_arn("job", "a")),
        _line(_arn("job", "a"), "SavingsPlanCoveredUsage", usd=2.2, hours=5.0),
        _line(_arn("job", "a"), "SavingsPlanNegation", usd=-2.2, hours=0.0),
        _line(_arn("job", "b"), usd=13.2, hours=30.0),
        _line(_arn("job", "gone"), usd=1.1, hours=2.5),
        _line(_arn("crawler", "raw"), usage_type="USE1-Crawler-DPU-Hour", operation="CrawlerRun", usd=0.5),
        _line(_arn("session", "s1"), usage_type="USE1-GlueInteractiveSession-DPU-Hour",
              operation="GlueInteractiveSession", usd=1.0),
        _line("(no resource) 111122223333/us-east-1", usage_type="USE1-Catalog-Storage", operation="Storage",
              usd=1.5, hours=1_150_000),
        _line("(no resource) 111122223333/-", "Credit", usage_type="", operation="", usd=-25.0, hours=0),
        _line("(no resource) 111122223333/-", "Tax", usage_type="", operation="", usd=3.0, hours=0),
    ]
    estimates = {1: Estimate(6.6, 15.0), 2: Estimate(4.4, 10.0)}
    result = reconcile(lines, jobs, estimates, PRICING, WINDOW, THROUGH)
    a, b, idle = (result.jobs[f"{ACCOUNT}/us-east-1/{name}"] for name in ("a", "b", "idle"))
    assert a["billed_30d_usd"] == pytest.approx(6.6) and a["billed_net_30d_usd"] == pytest.approx(4.4)
    assert a["billed_dpu_hours_30d"] == 15.0 and a["cost_basis"] == "billed"
    assert a["billed_difference_cause"].startswith("matches the estimate; Savings Plans cover $2.20")
    assert b["billed_difference_usd"] == pytest.approx(8.8) and b["billed_far_above_estimate"]
    assert idle["billed_30d_usd"] == 0.0 and idle["billed_difference_cause"] == "matches the estimate"
    assert [(u["job"], u["billed_usd"]) for u in result.unknown_jobs] == [("gone", 1.1)]
    not_jobs = {line["kind"]: line for line in result.not_jobs}
    assert list(not_jobs) == ["crawler", "interactive_session", "data_catalog", "adjustments"]
    assert not_jobs["crawler"]["billed_usd"] == 0.5 and not_jobs["crawler"]["examples"] == ["raw"]
    assert not_jobs["data_catalog"]["examples"] == ["USE1-Catalog-Storage"]
    assert not_jobs["adjustments"]["billed_usd"] == -22.0
    assert sorted(not_jobs["adjustments"]["examples"]) == ["Credit", "Tax"]
    totals = result.totals
    assert totals["jobs_billed_usd"] == pytest.approx(19.8) and totals["jobs_estimate_usd"] == pytest.approx(11.0)
    assert totals["not_jobs_billed_usd"] == pytest.approx(3.0) and totals["unknown_jobs_billed_usd"] == 1.1
    assert totals["billed_total_usd"] == pytest.approx(23.9)
    assert totals["net_total_usd"] == pytest.approx(19.8 - 2.2 + 1.1 + 3.0 - 22.0)


def test_net_cost_is_used_where_the_export_has_it():
    jobs = {f"{ACCOUNT}/us-east-1/a": {"data_job_id": 1, "region": "us-east-1"}}
    result = reconcile([_line(_arn("job", "a"), net=4.0)], jobs, {1: Estimate(4.4, 10.0)}, PRICING, WINDOW, THROUGH)
    fields = result.jobs[f"{ACCOUNT}/us-east-1/a"]
    assert (fields["billed_30d_usd"], fields["billed_net_30d_usd"]) == (4.4, 4.0)
