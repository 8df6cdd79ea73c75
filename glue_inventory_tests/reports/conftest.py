"""A real headless Chromium for the dashboard tests: Debian's /usr/bin/chromium driven by playwright."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from glue_inventory_tests.reports.chromium import CHROMIUM, CHROMIUM_ARGS, install_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(scope="session")
def chromium() -> str:
    reason = install_chromium()
    if reason:
        pytest.skip(f"no headless Chromium: {reason}")
    return str(CHROMIUM)


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    # Module scope: playwright's sync API keeps an asyncio loop running in this thread while it is open,
    # and a later test in the same worker that calls asyncio.run (Dagster's automation evaluator) fails.
    sync_api = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        # Never `playwright install`: it downloads a browser build, which fails offline.
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS[1:])
        yield browser
        browser.close()
