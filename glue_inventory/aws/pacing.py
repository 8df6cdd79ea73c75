"""Requests paced per (account, Region, API family) at a rate the limiter learns, instead of being throttled.

AWS limits API requests per account and Region with token buckets, and publishes neither Glue's rate nor
the bucket's size; both differ by account, Region and API. An `AdaptiveLimiter` finds the rate (AIMD):

- requests leave **evenly spaced**, one interval after the previous one actually left, never in a bunch,
  so a limit is met whatever the bucket holds (even a single request). "Left" is when the request reached its
  socket (its body tells the limiter when urllib3 asks for it, after the headers are sent), not when it passed
  the gate: the client's own work on a request after its slot (botocore's request path waiting for the GIL, a
  collection) would otherwise let it arrive together with the next one, and a bucket of one throttles that;
- it starts at the rate learned by an earlier run (stored in the inventory database per account, Region
  and API family) or, with none, at a conservative initial rate, and raises it while nothing is throttled
  and only while it holds requests back (a rate the callers do not use is not a rate AWS allowed): by one
  request per second with each request until the first throttle ever seen for that family (doubling every
  second), then back quickly towards the rate last throttled (`RECOVERY_PER_CALL` of the gap per request)
  and slowly above it (`INCREASE_PER_CALL` per request: a slow API is probed as rarely, in calls, as a fast
  one, so the share of throttled calls does not grow as the limit falls);
- it cuts the rate by `CUT` at the first throttled answer, before botocore's retries pile up. Answers to
  requests that left before the last cut were sent at the old rate and do not cut again;
- `max_requests_per_second` from the config stays a ceiling;
- while a run fetches (`prompt_threads`), the interpreter hands the GIL over every `SWITCH_INTERVAL_S`, so a
  request due to leave is not held back behind threads parsing pages and requests arrive as evenly as they
  leave (a bucket of one request throttles any two that arrive closer than one interval).

The family is the AWS service (botocore's service name: "glue", "resourcegroupstaggingapi", "cloudwatch",
…): AWS keeps a bucket per service, and the simulator does too. Every client of the same account, Region
and service in a process shares one limiter. The rate's state is kept apart from the threads (`slot`,
`left`, `answered`) so that a test can drive it on a clock of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import threading
import time
from collections.abc import Callable, Iterator

from glue_inventory.aws.errors import THROTTLING

# Without a learned rate: requests per second to start at (config `pacing.initial_requests_per_second`).
INITIAL_RATE = 10.0
# Never slower than this, however often AWS throttles (a throttling storm of another tool).
MIN_RATE = 0.5
# Without a ceiling: no faster than this (the tool's threads could not use more on one machine).
MAX_RATE = 1000.0
# Slow start: each request held back raises the rate by this many requests per second (a rate that holds
# every request back doubles every second) until the family's first throttle.
SLOW_START_PER_CALL = 1.0
# After it: below the rate last throttled, each request held back closes this share of the gap (a cut is
# made up in about 100 requests: a throttle caused by a late packet costs little)...
RECOVERY_PER_CALL = 0.02
# ...and at or above it, raises the rate by this share of itself (1 % above it after about 100 requests)...
INCREASE_PER_CALL = 0.0001
# ...and is multiplied by this at a throttled answer (a request that left after the last cut). Each cut costs
# pace until it is made up, and each probe above the limit a throttle: against a bucket of one request at 50/s,
# a refresh of 5,000 jobs took 1.060-1.074x the rate bound in its API phases with 0.3 % of calls throttled, and
# 1.080-1.092x with 0.5 % at a cut of a tenth and probing at 0.025 % per request (docs/SCALING.md).
CUT = 0.95
# While many threads fetch, the interpreter hands the GIL over every this many seconds (Python's default is
# 0.005): a request due to leave waits for it at most this long behind threads parsing pages, so requests
# arrive as evenly as they leave. At 5 ms, paced requests arrived up to ~10 ms off their slots and a bucket of
# one request throttled them at 37 requests/s for a limit of 50 (docs/SCALING.md).
SWITCH_INTERVAL_S = 0.0005
# A run throttled on more than this share of its calls says so in its metadata.
THROTTLED_SHARE_WARNING = 0.01


@dataclasses.dataclass(frozen=True)
class LearnedRate:
    """What a run learned for one (account, Region, API family), and what the next run starts from.
    `limit_found`: a throttle was seen (by this run or the one it started from), so the rate is near the limit
    and the next run climbs slowly instead of doubling."""

    account_id: str
    region: str
    family: str
    rate: float
    limit_found: bool
    calls: int = 0
    throttles: int = 0


class AdaptiveLimiter:
    """AIMD rate limiter of one (account, Region, API family); `wait()` before every request leaves.

    One thread at a time holds the gate while it sleeps to its slot, so a rate cut applies to the very next
    request and no thread computes its slot from a stale rate; the next slot is counted from when the request
    actually left, so threads that wake late never leave together."""

    def __init__(self, rate: float = INITIAL_RATE, ceiling: float | None = None, limit_found: bool = False,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 fixed: bool = False) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.fixed = fixed  # `pacing.adaptive: false`: evenly spaced at the ceiling, nothing learned
        self._lock = threading.Lock()
        self._gate = threading.Lock()
        self._clock, self._sleep = clock, sleep
        self._local = threading.local()
        self.ceiling = ceiling
        self.limit_found = limit_found
        self.rate = self._bounded(rate)
        self.calls = 0
        self.throttles = 0
        self.peak: float | None = None  # the rate last throttled
        self._last_left: float | None = None
        self._gap: float | None = None  # moving average of the time between requests leaving
        self._last_cut = float("-inf")

    def _bounded(self, rate: float) -> float:
        return max(MIN_RATE, min(rate, self.ceiling or MAX_RATE))

    def set_ceiling(self, ceiling: float | None) -> None:
        with self._lock:
            self.ceiling = ceiling
            self.rate = self._bounded(self.rate)

    # The rate's state, without threads or sleeping.

    def slot(self) -> float:
        """When the next request may leave: one interval at the current rate after the last one left."""
        with self._lock:
            return float("-inf") if self._last_left is None else self._last_left + 1.0 / self.rate

    def left(self, at: float, held: bool = True) -> None:
        """A request left at `at`, `held` back by the rate (else the callers were slower than the rate): a rate
        that holds requests back grows (nothing was throttled since it last grew)."""
        with self._lock:
            if self._last_left is not None:
                gap = max(at - self._last_left, 0.0)
                self._gap = gap if self._gap is None else self._gap + 0.1 * (gap - self._gap)
            self._last_left = at
            self.calls += 1
            if self.fixed or not held:
                return
            if not self.limit_found:
                grown = self.rate + SLOW_START_PER_CALL
            else:
                below_peak = max(0.0, (self.peak or 0.0) - self.rate)
                grown = self.rate * (1 + INCREASE_PER_CALL) + below_peak * RECOVERY_PER_CALL
            self.rate = self._bounded(grown)

    def sent_rate(self) -> float:
        """The rate requests actually left at lately (a moving average of the gaps between them)."""
        with self._lock:
            return 1.0 / self._gap if self._gap else self.rate

    def answered(self, sent_at: float, throttled: bool, now: float | None = None) -> None:
        """The answer to a request that left at `sent_at`. A throttle cuts the rate, unless the request left
        before the last cut (it was paced at the rate already cut)."""
        if not throttled:
            return
        with self._lock:
            self.throttles += 1
            if sent_at <= self._last_cut or self.fixed:
                return
            now = self._clock() if now is None else now
            self._last_cut = now
            self.limit_found = True
            # From the rate requests left at (threads that wake late send below the rate), but never more than
            # one cut below the rate: a caller that sends a request now and then (the listing's few pages) would
            # otherwise cut it to almost nothing, and the next run would crawl up from there.
            sent = 1.0 / self._gap if self._gap else self.rate
            self.peak = max(min(self.rate, sent), self.rate * CUT)
            self.rate = self._bounded(self.peak * CUT)

    # The threads.

    def sent(self, at: float | None = None) -> None:
        """The last request to leave reached its socket at `at` (default: now), later than the gate after the
        client's own work on it: the next slot counts from there, so a request held up after its slot (the GIL, a
        collection) does not arrive together with the next one. A stamp earlier than the last never moves it."""
        at = self._clock() if at is None else at
        with self._lock:
            if self._last_left is not None and at > self._last_left:
                self._last_left = at

    def wait(self) -> float:
        """Sleep until the next slot; returns when the request left (the clock's time, taken at the gate).
        The slot is asked again after the sleep: the request before may have reached its socket since."""
        with self._gate:
            now = self._clock()
            due = self.slot()
            held = due > now
            while due > now:
                self._sleep(due - now)
                now = self._clock()
                due = self.slot()
            self.left(now, held)
        self._local.sent_at = now
        return now

    def on_answer(self, throttled: bool) -> None:
        """The calling thread's last request was answered (botocore calls from the thread that sent it)."""
        sent_at = getattr(self._local, "sent_at", None)
        if sent_at is not None:
            self.answered(sent_at, throttled)

    def learned(self, account_id: str, region: str, family: str) -> LearnedRate:
        with self._lock:
            return LearnedRate(account_id, region, family, round(self.rate, 3), self.limit_found, self.calls,
                               self.throttles)


class Pacing:
    """The limiters of a process, by (account, Region, API family), started from the rates learned before.

    `starting_rates` gives a family's learned rate (read from the inventory database once, by whoever builds
    this: aws/ holds no SQL); `initial_rate` is used where nothing was learned."""

    def __init__(self, initial_rate: float = INITIAL_RATE, adaptive: bool = True,
                 starting_rates: Callable[[], dict[tuple[str, str, str], LearnedRate]] | None = None) -> None:
        self._limiters: dict[tuple[str, str, str], AdaptiveLimiter] = {}
        self._lock = threading.Lock()
        self.configure(initial_rate, adaptive, starting_rates)

    def configure(self, initial_rate: float = INITIAL_RATE, adaptive: bool = True,
                  starting_rates: Callable[[], dict[tuple[str, str, str], LearnedRate]] | None = None) -> None:
        """The settings of the runs to come; limiters already made keep what they learned in this process."""
        with self._lock:
            self.initial_rate = initial_rate
            self.adaptive = adaptive
            self._starting_rates = starting_rates
            self._known: dict[tuple[str, str, str], LearnedRate] | None = None

    def limiter(self, account_id: str, region: str, family: str,
                ceiling: float | None) -> AdaptiveLimiter | None:
        """The limiter of the (account, Region, family); None when nothing paces it (`adaptive: false`, no
        ceiling)."""
        key = (account_id, region, family)
        with self._lock:
            limiter = self._limiters.get(key)
            if limiter is not None:
                limiter.set_ceiling(ceiling)
                return limiter
            if not self.adaptive:
                if ceiling is None:
                    return None
                limiter = self._limiters[key] = AdaptiveLimiter(ceiling, ceiling, fixed=True)
                return limiter
            if self._known is None:
                self._known = self._starting_rates() if self._starting_rates else {}
            known = self._known.get(key)
            limiter = AdaptiveLimiter(known.rate if known else self.initial_rate, ceiling,
                                      limit_found=bool(known and known.limit_found))
            self._limiters[key] = limiter
            return limiter

    def mark(self) -> dict[tuple[str, str, str], tuple[int, int]]:
        """Calls and throttled answers of every limiter now: a run's own figures are the difference."""
        with self._lock:
            return {key: (limiter.calls, limiter.throttles) for key, limiter in self._limiters.items()}

    def learned(self, since: dict[tuple[str, str, str], tuple[int, int]] | None = None) -> list[LearnedRate]:
        """Every limiter that sent a request since the `mark()` (default: in this process), with the calls and
        throttled answers since then, as the next run should start from it."""
        since = since or {}
        with self._lock:
            items = [(key, limiter) for key, limiter in self._limiters.items() if not limiter.fixed]
        learned = []
        for key, limiter in items:
            item = limiter.learned(*key)
            calls, throttles = since.get(key, (0, 0))
            if item.calls > calls:
                learned.append(dataclasses.replace(item, calls=item.calls - calls,
                                                   throttles=item.throttles - throttles))
        return learned

    def summary(self, since: dict[tuple[str, str, str], tuple[int, int]] | None = None) -> dict:
        """Calls, throttled answers and learned rates since the `mark()`: a run's metadata."""
        learned = self.learned(since)
        calls = sum(item.calls for item in learned)
        throttles = sum(item.throttles for item in learned)
        share = throttles / calls if calls else 0.0
        return {
            "paced_calls": calls,
            "throttled_answers": throttles,
            "throttled_share": round(share, 4),
            "throttled_over_1pct": share > THROTTLED_SHARE_WARNING,
            "learned_rates": [{"account_id": item.account_id, "region": item.region, "family": item.family,
                               "requests_per_second": item.rate, "limit_found": item.limit_found,
                               "calls": item.calls, "throttled": item.throttles} for item in learned],
        }


@contextlib.contextmanager
def prompt_threads() -> Iterator[None]:
    """Threads waiting for the GIL get it within `SWITCH_INTERVAL_S` while this is open (restored after)."""
    before = sys.getswitchinterval()
    if before <= SWITCH_INTERVAL_S:  # a process that asked for less keeps it
        yield
        return
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


# The process's limiters: every client of an account, Region and service in the process shares one, whichever
# resource or service made its session.
_process_pacing = Pacing()


def process_pacing() -> Pacing:
    return _process_pacing


class _SentSignal:
    """A request's body that tells its limiter when the request reached the socket: urllib3 sends an iterable
    body chunk by chunk after the headers, so the first chunk is asked for once the headers are sent. The
    length stays in the Content-Length header botocore set; `seek` lets botocore rewind it before a retry."""

    def __init__(self, body: bytes, limiter: AdaptiveLimiter) -> None:
        self.body = body
        self.limiter = limiter

    def __iter__(self) -> Iterator[bytes]:
        self.limiter.sent()
        yield self.body

    def seek(self, offset: int, whence: int = 0) -> int:  # noqa: ARG002 - the body is whole each time
        return 0


def _throttled(response) -> bool | None:
    """True for a throttling answer, False for any other answer, None when no answer came (a connection error)."""
    if response is None:
        return None
    http, parsed = response
    code = (parsed or {}).get("Error", {}).get("Code")
    if code in THROTTLING:
        return True
    return bool(http is not None and http.status_code == 429)


def pace(client, limiter: AdaptiveLimiter) -> None:
    """Every request the client sends, retries included, waits for its slot (botocore's before-send event), and
    every answer tells the limiter whether it was throttled (needs-retry fires after each attempt, in the
    thread that sent it, before botocore sleeps to retry)."""

    def on_answer(response=None, **_kwargs) -> None:
        throttled = _throttled(response)
        if throttled is not None:
            limiter.on_answer(throttled)

    def before_send(request=None, **_kwargs) -> None:  # a value returned here would be taken as the HTTP answer
        limiter.wait()
        if request is not None and isinstance(request.body, bytes) and request.body:
            request.body = _SentSignal(request.body, limiter)

    client.meta.events.register("before-send", before_send)
    client.meta.events.register("needs-retry", on_answer)
