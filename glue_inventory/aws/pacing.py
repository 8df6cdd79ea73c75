"""Requests paced per (account, Region) at the rate AWS allows, instead of waiting to be throttled.

AWS limits API requests per account and Region with token buckets (a steady rate, and about a second's
worth as a burst); botocore's adaptive retry mode only slows down after throttling answers, and each of
those costs a round trip and a back-off. A `RateLimiter` is the client's copy of that bucket: send times
spaced at the rate, and the slots a stalled client missed (the writer thread held the GIL, a Dagster run
was starting) kept for up to a second, less one request for clock skew, so it catches up without ever
outrunning AWS's bucket. A thread that wakes late from its slot (a busy CPU) is counted again when it
actually leaves, so late threads never go out in a bunch. Every client of the same account and Region in
the process shares it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_limiters: dict[tuple[str, str], RateLimiter] = {}
_registry_lock = threading.Lock()


class RateLimiter:
    """`rate` requests a second: each caller reserves the next free slot, then sleeps until it. Up to `burst`
    requests (default: a second's worth less one) may leave at once after a pause, as a token bucket allows.

    The slots order the callers; a bucket of `burst`, charged when a caller leaves, holds back the ones that
    woke late so they cannot leave together with those that woke on time. The slots free a tenth of a
    second's worth less than the bucket holds, so a thread that wakes a little late still finds its token
    and the pace loses nothing. `sleep` is the clock's sleep (a test stalls threads with its own)."""

    def __init__(self, rate: float, burst: float | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._lock = threading.Lock()
        self._burst = burst
        self._sleep = sleep
        self.set_rate(rate)
        self._next = time.monotonic() - self._burst_s
        self._tokens = self._capacity
        self._updated = time.monotonic()

    def set_rate(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        with self._lock:
            self.interval = 1.0 / rate
            self._capacity = max(1.0, self._burst if self._burst is not None else rate - 1)
            at_once = max(1.0, self._capacity - max(1.0, rate / 10))
            # Slots free at once: the current one and `at_once - 1` missed ones.
            self._burst_s = (at_once - 1) * self.interval

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now - self._burst_s)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)
        self._leave()

    def _leave(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self._capacity, self._tokens + (now - self._updated) / self.interval)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                short = (1 - self._tokens) * self.interval
            self._sleep(short)


def limiter_for(account_id: str, region: str, rate: float) -> RateLimiter:
    """The process's limiter of the account and Region, at the rate configured last."""
    with _registry_lock:
        limiter = _limiters.get((account_id, region))
        if limiter is None:
            limiter = _limiters[(account_id, region)] = RateLimiter(rate)
        else:
            limiter.set_rate(rate)
        return limiter


def pace(client, limiter: RateLimiter) -> None:
    """Every request the client sends, retries included, waits for its slot (botocore's before-send event)."""
    client.meta.events.register("before-send", lambda **_: limiter.wait())
