"""The bill in the reports: the executive section and JSON, "not available" with its reason (never $0.00), the
per-job report, and the dashboard's billed columns in a real headless Chromium."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from glue_inventory.reports import dashboard
from glue_inventory.reports.executive import ReportInputs, executive_json, executive_numbers, executive_summary_md
from glue_inventory.reports.job_report import job_report_md
from glue_inventory_tests.reports.fleet import GENERATED_AT, candidates, deep_result, fleet, history

if TYPE_CHECKING:
    from playwright.sync_api import Page

NO_CE = {"period_start": "2026-10-27", "period_end": "2026-11-26", "actual_usd": None,
         "reason": "Cost Explorer has no Glue spend for 2026-10-27 to 2026-11-26"}
BILLING = {
    "available": True, "window": {"start": "2026-10-26", "end": "2026-11-24"}, "through": "2026-11-24",
    "totals": {"jobs_billed_usd": 930.004, "jobs_estimate_usd": 480.0, "jobs_difference_usd": 450.004,
               "unknown_jobs_billed_usd": 4.84, "not_jobs_billed_usd": 8.54, "adjustments_usd": -21.88,
               "billed_total_usd": 943.384, "net_total_usd": 900.0},
    "not_jobs": [{"kind": "crawler", "label": "Crawlers", "billed_usd": 4.84, "net_usd": 4.84, "count": 1,
                  "examples": ["sales_raw_crawler"]},
                 {"kind": "interactive_session", "label": "Interactive sessions", "billed_usd": 3.7, "net_usd": 3.7,
                  "count": 2, "examples": ["s-1", "s-2"]}],
    "unknown_jobs": [{"key": "111122223333/us-east-1/gone", "job": "gone", "account_id": "111122223333",
                      "region": "us-east-1", "billed_usd": 4.84, "net_usd": 4.84},
                     {"key": "444444444444/us-east-1/old", "job": "old", "account_id": "444444444444",
                      "region": "us-east-1", "billed_usd": 2.0, "net_usd": 2.0}],
}


def _billed(jobs: list[dict]) -> list[dict]:
    """The fleet with a bill: the costliest live job billed 3× its estimate, one job with no bill known."""
    jobs = [dict(job) for job in jobs]
    costly = max((j for j in jobs if j["status"] != "deleted"), key=lambda j: j["monthly_projection_usd"])
    for job in jobs:
        estimate = job["monthly_projection_usd"]
        billed = 3 * estimate if job is costly else estimate
        job.update(billed_30d_usd=billed, billed_net_30d_usd=billed, estimate_billed_days_usd=estimate,
                   billed_difference_usd=billed - estimate, billed_far_above_estimate=job is costly,
                   billed_difference_cause="far above" if job is costly else "matches the estimate",
                   cost_basis="billed")
    jobs[-1].update(billed_30d_usd=None, billed_difference_usd=None, cost_basis="estimate")
    return jobs


@pytest.fixture(scope="module")
def billed_jobs() -> list[dict]:
    return _billed(fleet())


PLATFORMS = [{"name": "org", "account_id": "444444444444", "account_name": "legacy-reporting", "region": "*",
              "status": "skipped", "last_error": "SUSPENDED: only ACTIVE accounts are inventoried"}]


def _numbers(jobs, billing, cost_explorer=None) -> dict:
    return executive_numbers(ReportInputs(jobs, candidates(jobs), history(), cost_explorer, GENERATED_AT,
                                          platforms=PLATFORMS, billing=billing))


def test_billing_numbers_name_the_job_billed_far_above_and_what_is_not_jobs(billed_jobs):
    numbers = json.loads(executive_json(_numbers(billed_jobs, BILLING)))["billing"]
    costly = next(j for j in billed_jobs if j.get("billed_far_above_estimate"))
    assert [j["key"] for j in numbers["far_above"]] == [costly["key"]]
    assert numbers["largest_differences"][0]["difference_usd"] == round(2 * costly["monthly_projection_usd"], 2)
    assert numbers["jobs_billed_usd"] == 930.0 and numbers["billed_total_usd"] == 943.38
    assert [line["label"] for line in numbers["not_jobs"]] == ["Crawlers", "Interactive sessions"]
    md = executive_summary_md(_numbers(billed_jobs, BILLING))
    section = md.split("## Estimate vs billed, per job, and what is not jobs", 1)[1].split("\n## ", 1)[0]
    assert f"**[{costly['name']}](<jobs/" in section.split("### Billed far above the estimate")[1]
    assert "| Interactive sessions | $3.70 | 2 | s-1, s-2 |" in section
    assert "| gone | 111122223333 / us-east-1 | $4.84 |" in section
    assert "| 111122223333 | 1 | $4.84 | the account is not configured |" in section
    assert ("| 444444444444 (legacy-reporting) | 1 | $2.00 | the account is not inventoried: SUSPENDED: only ACTIVE "
            "accounts are inventoried |") in section
    headline = next(line for line in md.splitlines() if line.startswith("- **Monthly spend"))
    assert f"billed far above the estimate: {costly['name']}." in headline


def test_without_a_bill_or_cost_explorer_data_every_report_says_not_available_and_why(billed_jobs):
    jobs = fleet()
    numbers = _numbers(jobs, {"available": False, "reason": "the billing export has no Glue line items yet"}, NO_CE)
    md = executive_summary_md(numbers)
    headline = next(line for line in md.splitlines() if line.startswith("- **Monthly spend"))
    assert "billed spend not available (the billing export has no Glue line items yet)" in headline
    assert "actual spend from Cost Explorer not available (Cost Explorer has no Glue spend" in headline
    assert "$0.00" not in headline.split("**", 2)[2]
    assert "Billed spend: not available — the billing export has no Glue line items yet." in md
    html = dashboard.dashboard_html(jobs, numbers)
    assert 'id="spend-unavailable">not available</span>' in html and "$0.00</span>" not in html.split("Savings")[0]
    assert json.loads(executive_json(numbers))["billing"] == {
        "available": False, "reason": "the billing export has no Glue line items yet"}
    # No billing: section at all: the reason says how to turn it on.
    assert "no billing export configured (billing.cur_uri in the config file)" in executive_summary_md(
        _numbers(jobs, None, NO_CE))


def test_the_job_report_shows_the_bill_or_why_there_is_none(billed_jobs):
    costly = next(j for j in billed_jobs if j.get("billed_far_above_estimate"))
    report = job_report_md(costly, deep_result())
    assert "Billed in the Cost and Usage Report for the 30 days before today:" in report
    assert "far above" in report
    unbilled = dict(billed_jobs[-1], billed_unavailable_reason="the billing export has no Glue line items yet")
    report = job_report_md(unbilled, deep_result())
    assert "Billed cost: not available — the billing export has no Glue line items yet." in report
    assert "| Billed, 30 days before today | not available |" in report


@pytest.fixture
def page(browser, tmp_path: Path, billed_jobs) -> Iterator[Page]:
    (tmp_path / "dashboard.html").write_text(dashboard.dashboard_html(billed_jobs, _numbers(billed_jobs, BILLING)),
                                             encoding="utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto((tmp_path / "dashboard.html").as_uri())
    page.wait_for_selector("#jobs tbody tr")
    yield page
    assert errors == []
    page.close()


def _column(page: Page, name: str) -> list[str]:
    index = page.eval_on_selector_all("#jobs th", f"ths => ths.findIndex(th => th.dataset.col === '{name}')")
    return page.eval_on_selector_all(f"#jobs tbody tr td:nth-child({index + 1})",
                                     "tds => tds.map(td => td.textContent)")


def test_the_dashboard_table_shows_and_sorts_the_bill(page: Page, billed_jobs):
    billed = _column(page, "billed_30d_usd")
    assert len(billed) == len(billed_jobs) and billed.count("not available") == 1
    page.click("#jobs th[data-col=billed_difference_usd] button")
    costly = next(j for j in billed_jobs if j.get("billed_far_above_estimate"))
    assert _column(page, "name")[0] == costly["name"]
    assert _column(page, "billed_difference_usd")[0] == f"${2 * costly['monthly_projection_usd']:,.2f}"
    assert page.inner_text("#billing").count("Crawlers") == 1
