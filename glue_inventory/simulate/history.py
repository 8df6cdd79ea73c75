"""Run histories: when a job ran, how long, how it ended and what it was billed for."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from glue_inventory.simulate.catalog import WINDOW_DAYS, WORKER_DPU
from glue_inventory.simulate.profiles import Profile
from glue_inventory.simulate.runs import RunConfig, SimJobRun

DAY = 86400.0
HOUR = 3600.0
PERIOD_S = {"hourly": HOUR, "every4h": 4 * HOUR, "daily": DAY, "weekly": 7 * DAY, "monthly": 30 * DAY,
            "continuous": DAY}
# Whole-day status boundaries; planted last-run ages stay a day clear of them (docs/rules.md, status rule).
AGE_RANGES_DAYS = {"active": (0.0, 28.5), "idle": (31.5, 88.5), "stale": (91.5, 178.5),
                   "abandoned": (181.5, 360.0)}
HISTORY_DAYS = 365
# Runs are kept this far from the edge of the 30-day cost window, so answers hold for a few minutes.
EDGE_GUARD_S = 2 * HOUR


@dataclass(frozen=True)
class Failure:
    state: str
    message: str


def capacity(config: RunConfig) -> float:
    if config.worker_type and config.number_of_workers:
        return config.number_of_workers * WORKER_DPU[config.worker_type]
    return config.max_capacity or 0.0


def last_run_age_s(profile: Profile, rng: random.Random) -> float:
    low, high = AGE_RANGES_DAYS[profile.status]
    if profile.status == "active":
        period = PERIOD_S.get(profile.schedule, 10 * DAY)
        high = min(high, period / DAY * 0.9)
        if profile.running:
            return rng.uniform(600, 2400)
    return rng.uniform(low, high) * DAY + rng.uniform(60, 600)


def start_times(profile: Profile, rng: random.Random, now: float, last_age_s: float,
                created: float) -> list[float]:
    """Start times from the job's first run up to its planted latest run, oldest first."""
    last = now - last_age_s
    first = max(created + HOUR, now - HISTORY_DAYS * DAY)
    times: list[float] = []
    t = last
    if profile.schedule == "adhoc":
        while t >= first and len(times) < 40:
            times.append(t)
            t -= rng.expovariate(1 / (12 * DAY)) + HOUR
    else:
        period = PERIOD_S[profile.schedule]
        while t >= first:
            times.append(t)
            t -= period
    times.reverse()
    edge = now - WINDOW_DAYS * DAY
    # Scheduled start jitter of a few minutes, then move anything near the window edge off it.
    jittered = [s if i == len(times) - 1 else s + rng.uniform(0, 240) for i, s in enumerate(times)]
    return [s - 2 * EDGE_GUARD_S if abs(s - edge) < EDGE_GUARD_S else s for s in jittered]


def _failure(profile: Profile, rng: random.Random, secret: str, in_window: bool) -> Failure | None:
    fail_p = 0.75 if profile.failing and in_window else 0.04
    roll = rng.random()
    if roll < fail_p:
        kind = rng.random()
        if kind < 0.8:
            return Failure("FAILED", _failed_message(profile, rng, secret))
        if kind < 0.9:
            return Failure("TIMEOUT", "Job run timed out")
        return Failure("ERROR", rng.choice(ERROR_MESSAGES))
    if roll < fail_p + 0.01:
        return Failure("STOPPED", "")
    return None


def _failed_message(profile: Profile, rng: random.Random, secret: str) -> str:
    if profile.leaky_errors and rng.random() < 0.6:
        return ("An error occurred while calling o98.getDynamicFrame. java.sql.SQLException: Connection refused: "
                f"jdbc:postgresql://warehouse.internal:5432/analytics?user=etl_user&password={secret}")
    return rng.choice(FAILED_MESSAGES)


FAILED_MESSAGES = (
    "An error occurred while calling o112.pyWriteDynamicFrame. Access Denied (Service: Amazon S3; "
    "Status Code: 403; Error Code: AccessDenied)",
    "AnalysisException: cannot resolve '`order_ts`' given input columns: [id, amount, event_ts, country]",
    "Command failed with exit code 1",
    "java.lang.OutOfMemoryError: Java heap space",
    "Container killed by YARN for exceeding memory limits. 12.4 GB of 12 GB physical memory used.",
    "KeyError: 'target_path'",
    "EntityNotFoundException: Database analytics_raw not found.",
)
ERROR_MESSAGES = (
    "Resource unavailable",
    "Exceeded maximum concurrent compute capacity for your account: 300.",
    "Internal service error",
)


def build_runs(profile: Profile, rng: random.Random, *, name: str, now: float, created: float,
               config: RunConfig, old_config: RunConfig | None, secret: str, key_base: int) -> list[SimJobRun]:
    """The job's whole history, oldest first, ending at its planted status."""
    if profile.status in ("never_run", "new"):
        return []
    last_age = last_run_age_s(profile, rng)
    starts = start_times(profile, rng, now, last_age, created)
    change_at = starts[len(starts) // 2] if old_config and len(starts) > 1 else -math.inf
    base = _base_duration(profile, rng)
    window_start = now - WINDOW_DAYS * DAY
    runs: list[SimJobRun] = []
    for start in starts:
        cfg = old_config if old_config and start < change_at else config
        key = key_base + len(runs)
        is_last = start == starts[-1]
        if is_last and profile.running:
            runs.append(SimJobRun(name, key, start, 0, "RUNNING", cfg))
            continue
        if profile.schedule == "continuous":
            # Streaming runs are redeployed daily: each is stopped after about a day.
            failure = _failure(profile, rng, secret, start >= window_start)
            state = failure.state if failure and failure.state == "FAILED" else "STOPPED"
            duration = int(rng.uniform(0.5, 0.98) * DAY)
            runs.append(_finished(name, key, start, duration, state, cfg, rng, failure))
            continue
        failure = _failure(profile, rng, secret, start >= window_start)
        duration = max(5, int(base * rng.lognormvariate(0, 0.25)))
        if failure and failure.state == "TIMEOUT":
            duration = cfg.timeout_minutes * 60
        elif failure and failure.state == "ERROR":
            duration = 0
        elif failure:
            duration = int(duration * rng.uniform(0.05, 0.9))
        runs.append(_finished(name, key, start, duration, failure.state if failure else "SUCCEEDED",
                              cfg, rng, failure))
        if failure and failure.state == "FAILED" and not is_last and rng.random() < 0.3:
            retry_start = start + duration + 60
            retry_ok = rng.random() < 0.6
            retry = _finished(name, key + 1_000_000, retry_start, max(5, int(base * rng.uniform(0.8, 1.2))),
                              "SUCCEEDED" if retry_ok else "FAILED", cfg, rng,
                              None if retry_ok else failure, attempt=1)
            retry.previous_key = key
            if abs(retry_start - window_start) >= EDGE_GUARD_S and retry_start < starts[-1]:
                runs.append(retry)
    return runs


def _finished(name: str, key: int, start: float, duration: int, state: str, cfg: RunConfig,
              rng: random.Random, failure: Failure | None, attempt: int = 0) -> SimJobRun:
    dpu_seconds = None
    # Glue reports DPUSeconds only for Flex and auto-scaling runs, which bill what was really used.
    if duration > 0 and (cfg.execution_class == "FLEX" or cfg.auto_scaling):
        used = rng.uniform(0.85, 1.0) if cfg.execution_class == "FLEX" else rng.uniform(0.3, 0.9)
        dpu_seconds = round(capacity(cfg) * duration * used, 1)
    message = failure.message if failure and failure.message else None
    return SimJobRun(name, key, start, duration, state, cfg, attempt, dpu_seconds, message)


def _base_duration(profile: Profile, rng: random.Random) -> float:
    if profile.job_type == "pythonshell":
        return rng.uniform(40, 900)
    if profile.job_type == "glueray":
        return rng.uniform(300, 1800)
    if profile.schedule == "hourly":
        return rng.uniform(600, 1500)
    return rng.uniform(120, 3600)
