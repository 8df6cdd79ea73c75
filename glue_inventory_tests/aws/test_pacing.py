"""Requests paced per account and Region at the configured rate never meet AWS's throttling."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from glue_inventory.aws.clients import CallCounter, PlatformSession
from glue_inventory.aws.pacing import RateLimiter, limiter_for
from glue_inventory.config import PlatformConfig
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory_tests.sim_fixtures import point_at

ACCOUNT = "640987654321"
RATE = 5.0


def _stamps(limiter: RateLimiter, calls: int, meanwhile: Callable[[], None] = lambda: None) -> list[float]:
    """When each of `calls` callers on 8 threads left the limiter; `meanwhile` runs while they wait."""
    stamps: list[float] = []
    lock = threading.Lock()

    def call() -> None:
        limiter.wait()
        with lock:
            stamps.append(time.monotonic())

    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(calls):
            pool.submit(call)
        meanwhile()
    return sorted(stamps)


def test_rate_limiter_spaces_every_caller():
    stamps = _stamps(RateLimiter(50.0, burst=1), 40)
    # Slots are 20 ms apart; a sleeping thread can wake late (a gap shrinks after a longer one), never early.
    assert len(stamps) == 40 and stamps[-1] - stamps[0] >= 39 * 0.02 * 0.99


def test_rate_limiter_bursts_less_than_a_second():
    limiter = RateLimiter(50.0)
    started = time.monotonic()
    stamps = _stamps(limiter, 100)
    # 44 slots are free at once (a second's worth less one, less a tenth of a second), 56 come at the rate.
    assert stamps[-1] - started >= 56 * 0.02 * 0.99
    assert stamps[43] - started < 0.5


def test_threads_that_wake_late_never_leave_together():
    release = threading.Event()

    def stalled(seconds: float) -> None:  # a busy CPU: the sleeping threads wake late, all at once
        if release.is_set():
            time.sleep(seconds)
        else:
            release.wait()

    def release_late() -> None:
        time.sleep(0.5)  # every slot has passed
        release.set()

    stamps = _stamps(RateLimiter(20.0, burst=2, sleep=stalled), 6, release_late)
    # A bucket of 2 at 20/s: any n + 1 consecutive requests span at least (n - 1) / 20 s.
    assert len(stamps) == 6
    for first in range(6):
        for last in range(first + 1, 6):
            assert stamps[last] - stamps[first] >= (last - first - 1) * 0.05 * 0.99


def test_limiters_are_per_account_and_region_and_follow_the_configured_rate():
    first = limiter_for("650987654321", "us-east-1", 10.0)
    assert limiter_for("650987654321", "us-east-1", 20.0) is first and first.interval == pytest.approx(0.05)
    assert limiter_for("650987654321", "eu-west-1", 10.0) is not first
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)


@pytest.mark.parametrize("paced", [True, False])
def test_paced_platform_is_never_throttled(paced, monkeypatch):
    with start_simulator(build_fleet(3, 5, datetime.now(UTC), account_id=ACCOUNT), rate_limit_per_s=RATE) as sim:
        point_at(sim, monkeypatch)
        platform = PlatformConfig(name="paced", account_id=ACCOUNT, regions=["us-east-1"],
                                  endpoint_url=sim.endpoint_url, max_requests_per_second=RATE if paced else None)
        counter = CallCounter()
        session = PlatformSession(platform, "us-east-1", counter=counter)
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda _: session.glue.get_jobs(), range(20)))
    if paced:
        assert counter.total_retries == 0
    else:  # the same load without pacing meets the limit (and botocore retries it)
        assert counter.total_retries > 0
