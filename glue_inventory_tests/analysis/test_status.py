"""Status by whole days, failure rate over the window, end-of-life versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from glue_inventory.analysis.status import failure_rate, is_eol, job_status
from glue_inventory.analysis.types import JobRun
from glue_inventory.config import Settings, Thresholds

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DEFAULTS = Thresholds()
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(0), "active"),
        (-timedelta(hours=1), "active"),  # clock skew: a run "in the future" is recent
        (30 * DAY, "active"),
        (31 * DAY - SECOND, "active"),  # 30 whole days
        (31 * DAY, "idle"),
        (90 * DAY, "idle"),
        (91 * DAY - SECOND, "idle"),
        (91 * DAY, "stale"),
        (180 * DAY, "stale"),
        (181 * DAY - SECOND, "stale"),
        (181 * DAY, "abandoned"),
        (2000 * DAY, "abandoned"),
    ],
)
def test_status_by_days_since_latest_run(age, expected):
    created = NOW - 3000 * DAY
    assert job_status(NOW - age, created, NOW, DEFAULTS) == expected


@pytest.mark.parametrize(
    ("created_age", "expected"),
    [
        (timedelta(0), "new"),
        (14 * DAY, "new"),
        (15 * DAY - SECOND, "new"),  # 14 whole days
        (15 * DAY, "never_run"),
        (400 * DAY, "never_run"),
    ],
)
def test_status_without_runs_by_creation_age(created_age, expected):
    assert job_status(None, NOW - created_age, NOW, DEFAULTS) == expected


def test_status_without_runs_or_creation_date_is_never_run():
    assert job_status(None, None, NOW, DEFAULTS) == "never_run"


@pytest.mark.parametrize("latest", [NOW, None])
def test_deleted_wins(latest):
    assert job_status(latest, NOW - DAY, NOW, DEFAULTS, deleted=True) == "deleted"


def test_status_uses_configured_thresholds():
    thresholds = Thresholds(active_days=7, idle_days=14, stale_days=21, new_job_days=2)
    assert job_status(NOW - 8 * DAY, None, NOW, thresholds) == "idle"
    assert job_status(NOW - 15 * DAY, None, NOW, thresholds) == "stale"
    assert job_status(NOW - 22 * DAY, None, NOW, thresholds) == "abandoned"
    assert job_status(None, NOW - 3 * DAY, NOW, thresholds) == "never_run"


def started(state: str, age: timedelta | None, run_id: str = "jr") -> JobRun:
    return JobRun(run_id=run_id, state=state, started_on=None if age is None else NOW - age)


def test_failure_rate_counts_finished_states_only():
    runs = [
        started(state, DAY, state)
        for state in ("SUCCEEDED", "FAILED", "TIMEOUT", "ERROR", "STOPPED", "EXPIRED",
                      "RUNNING", "STARTING", "STOPPING", "WAITING")
    ]
    assert failure_rate(runs, NOW, 30) == (3 / 6, 3, 6)


def test_failure_rate_window_edge():
    runs = [
        started("FAILED", 30 * DAY),  # exactly 30 days ago: in
        started("FAILED", 30 * DAY + timedelta(microseconds=1)),  # just before the window: out
        started("SUCCEEDED", None),  # no StartedOn: cannot be placed in the window
        started("SUCCEEDED", timedelta(0)),
    ]
    assert failure_rate(runs, NOW, 30) == (1 / 2, 1, 2)


def test_failure_rate_zero_without_finished_runs():
    assert failure_rate([started("RUNNING", DAY)], NOW, 30) == (0.0, 0, 0)
    assert failure_rate([], NOW, 30) == (0.0, 0, 0)


def test_failure_rate_streams_over_200_runs():
    # 250 runs in the window (100 failed) and 50 older ones; a generator: read once.
    runs = (
        started("FAILED" if i < 100 else "SUCCEEDED", timedelta(hours=2 * i) if i < 250 else 40 * DAY, str(i))
        for i in range(300)
    )
    assert failure_rate(runs, NOW, 30) == (100 / 250, 100, 250)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (None, True),  # no GlueVersion = Glue 0.9
        ("", True),
        ("0.9", True),
        ("1.0", True),
        ("2.0", True),
        ("2", True),
        (" 2.0 ", True),
        ("3.0", False),
        ("4.0", False),
        ("5.0", False),
        ("5.1", False),
        ("future", False),
    ],
)
def test_is_eol_defaults(version, expected):
    assert is_eol(version, Settings().eol_versions) is expected


def test_is_eol_configured_list():
    assert is_eol("3.0", ["3.0"]) is True
    assert is_eol(None, ["3.0"]) is False
    assert is_eol("4.0", []) is False
