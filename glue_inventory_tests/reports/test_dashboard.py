"""The dashboard: numbers, escaping, size, and behaviour in a real headless Chromium."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from glue_inventory.reports import dashboard
from glue_inventory.reports.executive import ReportInputs, executive_numbers
from glue_inventory.reports.paths import job_report_relpath
from glue_inventory.reports.store import write_reports
from glue_inventory_tests.reports.chromium import CHROMIUM_ARGS
from glue_inventory_tests.reports.fleet import (
    GENERATED_AT,
    XSS_NAME,
    big_fleet,
    candidates,
    cost_explorer,
    fleet,
    history,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

MAX_BYTES = 3 * 1024 * 1024



def dashboard_html(jobs, *rest) -> str:
    """The dashboard of (jobs, candidates, history, Cost Explorer spend, generated at)."""
    return dashboard.dashboard_html(jobs, executive_numbers(ReportInputs(jobs, *rest)))

def usd(amount: float) -> str:
    return f"${round(amount, 2):,.2f}"


@pytest.fixture(scope="module")
def jobs() -> list[dict]:
    return fleet()


@pytest.fixture(scope="module")
def html(jobs: list[dict]) -> str:
    return dashboard_html(jobs, candidates(jobs), history(), cost_explorer(), GENERATED_AT)


def card(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert match, element_id
    return unescape(match.group(1))


def table_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="jobs-data">(.*?)</script>', html, re.S)
    assert match
    return json.loads(match.group(1))


def test_cards_equal_the_rows(html: str, jobs: list[dict]) -> None:
    cands = candidates(jobs)
    live = [j for j in jobs if j["status"] != "deleted"]
    assert card(html, "spend-estimated") == usd(sum(j["monthly_projection_usd"] for j in jobs))
    assert card(html, "spend-actual") == usd(cost_explorer()["actual_usd"])
    by_basis = {b: sum(c["savings_by_basis"].get(b, 0) for c in cands) for b in ("measured", "exact", "rule_of_thumb")}
    assert card(html, "savings-total") == usd(by_basis["measured"] + by_basis["exact"])
    assert card(html, "savings-potential") == usd(by_basis["rule_of_thumb"])
    security = sum(len(j["secret_arguments"]) for j in live) + sum(
        j["deep"]["security_findings"] for j in jobs if j["deep"]
    )
    assert card(html, "security-total") == str(security)
    assert card(html, "eol-total") == str(sum(1 for j in live if j["eol_version"]))


def test_table_blob_holds_every_job(html: str, jobs: list[dict]) -> None:
    data = table_data(html)
    col = {name: i for i, name in enumerate(data["columns"])}
    assert sorted(row[col["name"]] for row in data["rows"]) == sorted(j["name"] for j in jobs)
    assert round(sum(row[col["monthly_projection_usd"]] for row in data["rows"]), 2) == pytest.approx(
        round(sum(j["monthly_projection_usd"] for j in jobs), 2), abs=0.01
    )


def test_savings_say_what_they_rest_on(html: str, jobs: list[dict]) -> None:
    data = table_data(html)
    col = {name: i for i, name in enumerate(data["columns"])}
    basis = {row[col["name"]]: row[col["savings_basis"]] for row in data["rows"]}
    assert basis["daily_sales_etl"] == "exact" and basis["flex|pipe*star_"] == "rule_of_thumb"
    assert all(basis[j["name"]] is None for j in jobs if not j["estimated_monthly_savings_usd"])
    assert '<th data-col="savings_basis"' in html


def test_self_contained_and_escaped(html: str) -> None:
    assert not re.search(r"(?i)\b(?:https?:|ftp:)?//[a-z0-9]", html), "no URL may point outside the file"
    assert not re.search(r"(?i)<(?:link|img|iframe|object|embed)\b|\bsrc=|@import|url\(", html)
    assert html.count("<script") == 2, "only the data blob and the dashboard's own script"
    assert XSS_NAME not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # charts and actions table show it as text
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in html  # the table's JSON


def test_two_thousand_jobs_fit_in_three_megabytes() -> None:
    jobs = big_fleet(2000)
    text = dashboard_html(jobs, candidates(jobs), history(), cost_explorer(), GENERATED_AT)
    size = len(text.encode("utf-8"))
    print(f"dashboard for 2,000 jobs: {size:,} bytes")
    assert size < MAX_BYTES
    assert len(table_data(text)["rows"]) == 2000


# In a real browser.


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory, jobs: list[dict], html: str) -> Path:
    """The dashboard next to the job reports it links to, as the pipeline writes them."""
    base = tmp_path_factory.mktemp("reports")
    files = {"dashboard.html": html}
    files.update({job_report_relpath(j["key"]): f"# {j['name']}\n" for j in jobs if j["deep"]})
    write_reports(str(base), files)
    return base


@pytest.fixture
def page(browser: Browser, report_dir: Path) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.goto((report_dir / "dashboard.html").as_uri())
    page.wait_for_selector("#jobs tbody tr")
    yield page
    assert problems == [], problems
    page.close()


def column(page: Page, name: str) -> list[str]:
    index = page.eval_on_selector_all("#jobs th", f"ths => ths.findIndex(th => th.dataset.col === '{name}')")
    return page.eval_on_selector_all(
        f"#jobs tbody tr td:nth-child({index + 1})", "tds => tds.map(td => td.textContent)"
    )


def money(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def test_renders_without_errors_and_is_not_blank(page: Page, jobs: list[dict], tmp_path: Path) -> None:
    from glue_inventory_tests.reports.png import distinct_colours

    assert page.inner_text("#row-count") == f"Showing {len(jobs)} of {len(jobs)} jobs"
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert distinct_colours(shot.read_bytes()) >= 32


def test_table_sorts(page: Page) -> None:
    costs = [money(t) for t in column(page, "monthly_projection_usd")]
    assert costs == sorted(costs, reverse=True)  # most expensive first by default
    page.click("#jobs th[data-col=monthly_projection_usd] button")
    costs = [money(t) for t in column(page, "monthly_projection_usd")]
    assert costs == sorted(costs)
    page.click("#jobs th[data-col=name] button")
    ascending = column(page, "name")
    page.click("#jobs th[data-col=name] button")
    assert column(page, "name") == ascending[::-1]
    assert page.get_attribute("#jobs th[data-col=name]", "aria-sort") == "descending"


def test_table_filters(page: Page, jobs: list[dict]) -> None:
    page.fill("#filter", "finance")
    expected = sorted(j["name"] for j in jobs if "finance" in (j["team"] or ""))
    assert sorted(column(page, "name")) == expected
    page.fill("#filter", "")
    page.select_option("#status-filter", "idle")
    assert sorted(column(page, "name")) == sorted(j["name"] for j in jobs if j["status"] == "idle")
    assert page.inner_text("#row-count") == f"Showing 2 of {len(jobs)} jobs"


def test_script_in_a_job_name_is_text(page: Page) -> None:
    # Shown as text in the top-actions table and the job table; an alert() would fail the `page` fixture.
    assert page.get_by_role("link", name=XSS_NAME, exact=True).count() == 2
    assert XSS_NAME in column(page, "name")
    assert page.evaluate("document.scripts.length") == 2


def test_report_links_resolve_to_the_written_files(page: Page, report_dir: Path, jobs: list[dict]) -> None:
    targets = page.eval_on_selector_all(
        "#jobs a", "links => links.map(a => decodeURIComponent(new URL(a.href).pathname))"
    )
    assert len(targets) == sum(1 for j in jobs if j["deep"])
    for target in targets:
        assert Path(target).is_file(), target
        assert Path(target).is_relative_to(report_dir)


def test_two_thousand_jobs_in_the_browser(browser: Browser, tmp_path: Path) -> None:
    jobs = big_fleet(2000)
    (tmp_path / "dashboard.html").write_text(dashboard_html(jobs, [], [], None, GENERATED_AT), encoding="utf-8")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto((tmp_path / "dashboard.html").as_uri())
    assert page.inner_text("#row-count") == "Showing 2000 of 2000 jobs"
    page.fill("#filter", "partition_00042")
    assert page.inner_text("#row-count") == "Showing 1 of 2000 jobs"
    assert errors == []


def test_chromium_command_line_runs_the_page_cleanly(
    chromium: str, report_dir: Path, jobs: list[dict], tmp_path: Path
) -> None:
    """The same checks with chromium alone (no playwright): the script ran, nothing logged, not blank."""
    from glue_inventory_tests.reports.png import distinct_colours

    url = (report_dir / "dashboard.html").as_uri()
    common = [chromium, *CHROMIUM_ARGS, "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp_path}/profile"]
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True)
    assert f"Showing {len(jobs)} of {len(jobs)} jobs" in dom.stdout
    # Chromium logs every console message and uncaught error as "CONSOLE"; the dashboard logs nothing.
    assert [line for line in dom.stderr.splitlines() if ":CONSOLE" in line] == []
    shot = tmp_path / "shot.png"
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1280,1600", url],
                   capture_output=True, timeout=120, check=True)  # fmt: skip
    assert distinct_colours(shot.read_bytes()) >= 32
