"""Adaptive pacing: requests leave evenly spaced at a rate learned per account, Region and API family (AIMD), so
a limit is met whatever AWS's bucket holds; the learned rate is stored and the next run starts from it."""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from glue_inventory.aws import pacing
from glue_inventory.aws.clients import CallCounter, PlatformSession
from glue_inventory.aws.pacing import AdaptiveLimiter, LearnedRate, Pacing, process_pacing
from glue_inventory.config import PlatformConfig
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.learned_rates import load_learned_rates, rates_by_platform, save_learned_rates
from glue_inventory_tests.sim_fixtures import point_at


def _stamps(limiter: AdaptiveLimiter, calls: int, meanwhile: Callable[[], None] = lambda: None) -> list[float]:
    """When each of `calls` callers on 8 threads left the limiter (its clock, read at the gate: a thread can be
    descheduled after it left); `meanwhile` runs while they wait."""
    stamps: list[float] = []
    lock = threading.Lock()

    def call() -> None:
        left = limiter.wait()
        with lock:
            stamps.append(left)

    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(calls):
            pool.submit(call)
        meanwhile()
    return sorted(stamps)


def test_requests_leave_evenly_spaced_never_in_a_bunch():
    stamps = _stamps(AdaptiveLimiter(50.0, 50.0, fixed=True), 40)
    gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:], strict=False)]
    # Each request leaves one interval after the previous one actually left: no gap is short, whatever the bucket.
    assert len(stamps) == 40 and min(gaps) >= 0.02 * 0.95


def test_threads_that_wake_late_never_leave_together():
    release = threading.Event()

    def stalled(seconds: float) -> None:  # a busy CPU: the sleeping thread wakes late
        if release.is_set():
            time.sleep(seconds)
        else:
            release.wait()

    def release_late() -> None:
        time.sleep(0.5)  # every slot has passed
        release.set()

    stamps = _stamps(AdaptiveLimiter(20.0, 20.0, sleep=stalled, fixed=True), 6, release_late)
    gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:], strict=False)]
    assert len(stamps) == 6 and min(gaps) >= 0.05 * 0.95


@contextmanager
def _platform_behind_a_limit(monkeypatch, account: str, rate_limit: float,
                             burst: float | None = None) -> Iterator[PlatformSession]:
    """A platform of one account in us-east-1 whose simulator answers ThrottlingException above `rate_limit`
    per second (a bucket of `burst`)."""
    with start_simulator(build_fleet(3, 5, datetime.now(UTC), account_id=account), rate_limit_per_s=rate_limit,
                         burst=burst) as sim:
        point_at(sim, monkeypatch)
        platform = PlatformConfig(name=f"behind-{account}", account_id=account, regions=["us-east-1"],
                                  endpoint_url=sim.endpoint_url)
        yield PlatformSession(platform, "us-east-1", counter=CallCounter())


def test_the_next_slot_counts_from_when_the_request_reached_its_socket():
    now = [0.0]
    limiter = AdaptiveLimiter(10.0, 10.0, fixed=True, clock=lambda: now[0],
                              sleep=lambda seconds: now.__setitem__(0, now[0] + seconds))
    assert limiter.wait() == 0.0
    now[0] = 0.03
    limiter.sent()  # the client's own work (the GIL, a collection) held the request 30 ms after its slot
    assert limiter.wait() == pytest.approx(0.13)  # one interval after it reached the socket, not after the gate

    # The request before reaches its socket while the next one sleeps to its slot: it sleeps on to the new one.
    moved = []

    def sleep(seconds: float) -> None:
        if not moved:
            moved.append(True)
            limiter.sent(now[0] + 0.02)
        now[0] += seconds

    limiter._sleep = sleep  # noqa: SLF001 - the same limiter, a clock that moves while it sleeps
    assert limiter.wait() == pytest.approx(0.13 + 0.02 + 0.1)
    limiter.sent(0.0)  # a stamp before the last one never moves the slot back
    assert limiter.slot() == pytest.approx(0.13 + 0.02 + 0.1 + 0.1)


def test_a_paced_request_tells_its_limiter_when_it_reached_the_socket_and_retries_send_the_whole_body(monkeypatch):
    readings: list[float] = []

    def clock() -> float:  # one tick per reading, to tell them apart
        readings.append(float(len(readings) + 1))
        return readings[-1]

    account = "640987654330"
    with _platform_behind_a_limit(monkeypatch, account, 2.0, burst=1) as session:
        limiter = process_pacing().limiter(account, "us-east-1", "glue", None)
        limiter._clock = clock  # noqa: SLF001
        names = [job["Name"] for job in session.glue.get_jobs(MaxResults=1000)["Jobs"]]
        # The gate read the clock, then the socket's signal read it again: the slot counts from the second.
        assert readings == [1.0, 2.0]
        assert limiter.slot() == pytest.approx(2.0 + 1 / limiter.rate)
        # Two at once, paced at 100/s against a bucket of one at 2/s: the second is throttled and retried, and the
        # retry sends the same body again whole (the job's runs come back).
        limiter._clock = time.monotonic  # noqa: SLF001
        limiter.rate = 100.0
        counter = session.counter
        with ThreadPoolExecutor(max_workers=2) as pool:
            pages = list(pool.map(lambda name: session.glue.get_job_runs(JobName=name), names[:2]))
    assert counter.total_retries >= 1
    assert all(page["JobRuns"] for page in pages)


def test_slow_start_doubles_until_the_first_throttle_then_cuts_once_per_rate():
    limiter = AdaptiveLimiter(10.0, clock=lambda: 0.0)
    for index in range(10):  # a second of requests, each held back by the rate: it doubles
        limiter.left(index / 10)
    assert limiter.rate == pytest.approx(20.0)
    limiter.left(5.0, held=False)  # the callers were slower than the rate: nothing tells it AWS allows more
    assert limiter.rate == pytest.approx(20.0)
    limiter.answered(sent_at=5.0, throttled=True, now=5.02)
    # Cut from the rate requests left at (about 10/s here), but never more than one cut below the rate: a caller
    # that sends now and then does not sink it.
    assert limiter.limit_found and limiter.peak == pytest.approx(20.0 * pacing.CUT)
    assert limiter.rate == pytest.approx(20.0 * pacing.CUT ** 2)
    cut = limiter.rate
    # Answers to requests that left before the cut were sent at the old rate: they do not cut again.
    limiter.answered(sent_at=5.01, throttled=True, now=5.03)
    assert limiter.rate == cut and limiter.throttles == 2
    # Once the limit is known, the rate climbs back quickly towards the rate throttled, then slowly above it.
    for index in range(300):
        limiter.left(5.1 + index / 20)
    assert cut < limiter.rate < limiter.peak * 1.1
    limiter.left(30.0)
    limiter.answered(sent_at=30.0, throttled=True, now=30.02)
    assert limiter.rate < cut * 1.1


def test_against_a_bucket_of_one_request_the_saw_tooth_costs_little_and_rarely_throttles():
    """Cutting at a throttle and probing back up costs pace: against a bucket of one request at 50/s (driven on a
    clock of its own), with every request leaving 0.3-1.5 ms after its slot (botocore's request path, the GIL),
    which alone costs 4.5 % of the pace, the saw-tooth costs under 2 % more and under 1 % of calls are throttled
    (with a cut of a tenth and probing at 0.025 % per call it cost 2.9 %)."""
    limiter = AdaptiveLimiter(50.0, limit_found=True, clock=lambda: 0.0)
    lateness = random.Random(7)
    now = tokens_at = 0.0
    tokens, answered, throttled = 1.0, 0, 0
    while answered < 20_000:
        now = max(now, limiter.slot()) + lateness.uniform(0.0003, 0.0015)
        limiter.left(now)
        tokens, tokens_at = min(1.0, tokens + (now - tokens_at) * 50.0), now
        if tokens >= 1.0:
            tokens -= 1.0
            answered += 1
        else:
            throttled += 1
            limiter.answered(now, throttled=True, now=now)
    pace = now / answered / 0.02  # the time per answered call, in the limit's intervals
    assert pace < 1.045 + 0.02
    assert throttled / (answered + throttled) < 0.01


def test_the_ceiling_and_the_floor_hold():
    limiter = AdaptiveLimiter(10.0, ceiling=12.0, clock=lambda: 0.0)
    for index in range(10):
        limiter.left(index / 10)
    assert limiter.rate == 12.0  # max_requests_per_second stays a ceiling
    for sent_at in range(6, 100):
        limiter.left(float(sent_at))
        limiter.answered(float(sent_at), throttled=True, now=sent_at + 0.5)
    assert limiter.rate == pacing.MIN_RATE
    with pytest.raises(ValueError, match="positive"):
        AdaptiveLimiter(0)


def test_a_process_starts_each_family_from_the_learned_rate_and_reports_what_it_learned():
    learned = {("111122223333", "us-east-1", "glue"): LearnedRate("111122223333", "us-east-1", "glue", 42.0, True)}
    process = Pacing(initial_rate=5.0, starting_rates=lambda: learned)
    glue = process.limiter("111122223333", "us-east-1", "glue", None)
    tagging = process.limiter("111122223333", "us-east-1", "resourcegroupstaggingapi", None)
    assert (glue.rate, glue.limit_found) == (42.0, True)
    assert (tagging.rate, tagging.limit_found) == (5.0, False)
    assert process.limiter("111122223333", "us-east-1", "glue", 30.0) is glue and glue.rate == 30.0
    mark = process.mark()
    for index in range(200):
        glue.left(index / 30)
    glue.answered(199 / 30, throttled=True, now=7.0)
    glue.answered(150 / 30, throttled=True, now=7.1)
    summary = process.summary(mark)
    assert summary["paced_calls"] == 200 and summary["throttled_answers"] == 2
    assert summary["throttled_share"] == 0.01 and not summary["throttled_over_1pct"]
    [rate] = summary["learned_rates"]
    assert rate["family"] == "glue" and rate["requests_per_second"] == pytest.approx(30.0 * pacing.CUT, rel=1e-3)
    # Without adaptive pacing: evenly spaced at the ceiling where there is one, else not paced at all.
    fixed = Pacing(adaptive=False)
    assert fixed.limiter("111122223333", "us-east-1", "glue", None) is None
    assert fixed.limiter("111122223333", "us-east-1", "s3", 7.0).rate == 7.0


def test_learned_rates_are_stored_per_account_region_and_family(database_url):
    engine = engine_for(database_url)
    now = datetime.now(UTC)
    row = {"account_id": "111122223333", "region": "us-east-1", "api_family": "glue", "requests_per_second": 48.5,
           "limit_found": True, "calls": 5100, "throttled": 12}
    save_learned_rates(engine, [row, {**row, "region": "eu-west-1", "limit_found": False}], now)
    save_learned_rates(engine, [{**row, "requests_per_second": 44.0, "throttled": 3}], now)  # the next run's
    stored = {(r["region"], r["api_family"]): r for r in load_learned_rates(engine)}
    assert stored[("us-east-1", "glue")]["requests_per_second"] == 44.0
    assert stored[("us-east-1", "glue")]["throttled"] == 3
    assert stored[("eu-west-1", "glue")]["limit_found"] is False
    assert rates_by_platform(engine)[("111122223333", "us-east-1")] == [
        {"family": "glue", "requests_per_second": 44.0, "limit_found": True, "calls": 5100, "throttled": 3}]


LIMIT = 10.0
CALLS = 120
TOO_FAST = 1.5


def _paced_load(monkeypatch, account: str, burst: float | None) -> tuple[int, AdaptiveLimiter]:
    """CALLS GetJobs on 8 threads against a simulator limiting to LIMIT per second with a bucket of `burst`,
    starting from a learned rate above the limit; the throttled answers the client saw, and its limiter."""
    with _platform_behind_a_limit(monkeypatch, account, LIMIT, burst) as session:
        limiter = process_pacing().limiter(account, "us-east-1", "glue", None)
        limiter.rate, limiter.limit_found = LIMIT * TOO_FAST, True  # learned on a day AWS allowed more
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda _: session.glue.get_jobs(), range(CALLS)))
    return limiter.throttles, limiter


@pytest.mark.parametrize(("account", "burst"), [("640987654301", 1.0), ("640987654305", 5.0),
                                                ("640987654320", None)])
def test_the_limit_is_found_whatever_the_bucket_holds(monkeypatch, account, burst):
    throttled, limiter = _paced_load(monkeypatch, account, burst)
    # 50 % too fast at first: sent at that rate, a third of the requests after the bucket is empty would be
    # throttled (about 35 of 120); a few throttles cut the rate back instead (at once with a bucket of 1, after
    # two seconds with a second's worth).
    assert limiter.calls >= CALLS
    assert 1 <= throttled <= 15
    assert limiter.limit_found and limiter.peak is not None


def test_without_pacing_the_same_load_is_throttled(monkeypatch):
    process_pacing().configure(adaptive=False)
    try:
        with _platform_behind_a_limit(monkeypatch, "640987654399", 5.0) as session:
            counter = session.counter
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(lambda _: session.glue.get_jobs(), range(20)))
    finally:
        process_pacing().configure()
    assert counter.total_retries > 0


def test_while_threads_fetch_a_request_due_to_leave_gets_the_gil_promptly_and_the_interval_is_restored_after():
    before = sys.getswitchinterval()
    assert before > pacing.SWITCH_INTERVAL_S  # Python's default, 5 ms
    with pytest.raises(RuntimeError), pacing.prompt_threads():
        assert sys.getswitchinterval() == pytest.approx(pacing.SWITCH_INTERVAL_S)
        raise RuntimeError("a fetch failed")
    assert sys.getswitchinterval() == before
    sys.setswitchinterval(0.0001)  # a process that asked for less keeps it
    try:
        with pacing.prompt_threads():
            assert sys.getswitchinterval() < 0.0001001
    finally:
        sys.setswitchinterval(before)
