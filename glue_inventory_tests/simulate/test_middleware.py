"""The simulator's rate limit counts requests when they arrive, as AWS does."""

from __future__ import annotations

import time

from glue_inventory.simulate.middleware import TokenBucket


def test_requests_are_charged_when_they_arrived_not_when_handled():
    bucket = TokenBucket(2.0)  # 2 a second, 2 at once
    start = time.monotonic()
    assert bucket.take(start) and bucket.take(start) and not bucket.take(start)
    # Three requests arrived half a second apart; their handler threads run together, a second later.
    assert all(bucket.take(start + 0.5 * n) for n in (1, 2, 3))
    assert not bucket.take(start + 1.5)


def test_a_request_charged_out_of_order_adds_no_time():
    bucket = TokenBucket(1.0)
    start = time.monotonic()
    assert bucket.take(start + 1.0)
    assert not bucket.take(start + 0.5)  # arrived before the one charged last: no token has come since
    assert bucket.take(start + 2.0)
