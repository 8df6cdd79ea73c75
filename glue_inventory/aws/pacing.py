"""Requests paced per (account, Region) at the rate AWS allows, instead of waiting to be throttled.

AWS limits API requests per account and Region; botocore's adaptive retry mode only slows down after
throttling answers, and each of those costs a round trip and a back-off. A `RateLimiter` hands out
evenly spaced send times (a burst of one, so AWS's own bucket, which allows about a second's burst,
never runs dry), and every client of the same account and Region in the process shares it.
"""

from __future__ import annotations

import threading
import time

_limiters: dict[tuple[str, str], RateLimiter] = {}
_registry_lock = threading.Lock()


class RateLimiter:
    """At most `rate` requests a second: each caller reserves the next free slot, then sleeps until it."""

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.interval = 1.0 / rate
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def set_rate(self, rate: float) -> None:
        with self._lock:
            self.interval = 1.0 / rate

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


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
