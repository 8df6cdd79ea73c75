"""Candidate reasons, savings, score, priority and ordering; expectations computed by hand."""

from __future__ import annotations

import pytest

from glue_inventory.analysis.candidates import REASONS, select_candidates
from glue_inventory.config import Pricing, Settings

SETTINGS = Settings()


def m(**overrides) -> dict:
    """A quiet, cheap, tidy job's metrics with `overrides`."""
    base = {
        "status": "active",
        "region": "us-east-1",
        "monthly_projection_usd": 0.0,
        "failure_rate_30d": 0.0,
        "finished_runs_30d": 0,
        "failed_cost_30d_usd": 0.0,
        "eol_version": False,
        "missing_tags": [],
        "secret_arguments": [],
        "flex_eligible": False,
    }
    return {**base, **overrides}


def by_key(jobs: dict) -> dict:
    return {candidate.key: candidate for candidate in select_candidates(jobs, SETTINGS)}


def fleet(costs: list[float]) -> dict:
    return {f"job{i:02d}": m(monthly_projection_usd=cost) for i, cost in enumerate(costs)}


def high_cost(jobs: dict) -> set[str]:
    return {key for key, candidate in by_key(jobs).items() if "high_cost" in candidate.reasons}


def test_high_cost_by_monthly_limit():
    # 20 jobs: the top 2 (150, 120) by rank, 100 by the limit, 99.99 by neither.
    jobs = fleet([150, 120, 100, 99.99] + [1.0] * 16)
    assert high_cost(jobs) == {"job00", "job01", "job02"}


def test_high_cost_top_ten_percent():
    jobs = fleet([50, 40, 30, 20, 10, 9, 8, 7, 6, 5])  # ceil(0.1 × 10) = 1
    assert high_cost(jobs) == {"job00"}


def test_high_cost_rounds_up():
    jobs = fleet([50, 40, 30, 20, 10, 9, 8, 7, 6, 5, 4])  # ceil(0.1 × 11) = 2
    assert high_cost(jobs) == {"job00", "job01"}


def test_high_cost_thirty_jobs_is_three_not_four():
    # 0.1 × 30 is 3.0000000000000004 in floating point: still 3 jobs.
    jobs = fleet([float(cost) for cost in range(30, 0, -1)])
    assert high_cost(jobs) == {"job00", "job01", "job02"}


def test_high_cost_ties_at_the_cut_all_count():
    jobs = fleet([50, 50, 40, 30, 20, 10, 9, 8, 7, 6])  # top 1, but two share the top cost
    assert high_cost(jobs) == {"job00", "job01"}


def test_zero_cost_never_high_cost():
    assert high_cost(fleet([0.0] * 10)) == set()
    assert high_cost(fleet([5.0] + [0.0] * 19)) == {"job00"}  # top 2, only one costs anything
    assert high_cost(fleet([0.0] * 3)) == set()


def test_zero_cost_never_high_cost_even_with_a_zero_limit():
    settings = Settings(thresholds={"high_cost_monthly_usd": 0.0})
    jobs = fleet([0.0, 0.0, 3.0])
    keys = {c.key for c in select_candidates(jobs, settings) if "high_cost" in c.reasons}
    assert keys == {"job02"}


@pytest.mark.parametrize(
    ("rate", "finished", "expected"),
    [
        (2 / 3, 3, True),
        (0.5, 4, True),
        (1.0, 3, True),
        (1.0, 2, False),  # too few runs to call it failing
        (0.49, 100, False),
        (0.0, 0, False),
    ],
)
def test_failing(rate, finished, expected):
    jobs = {"j": m(failure_rate_30d=rate, finished_runs_30d=finished)}
    assert ("j" in by_key(jobs)) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [("stale", True), ("abandoned", True), ("never_run", True), ("idle", False), ("active", False),
     ("new", False)],
)
def test_inactive(status, expected):
    assert ("j" in by_key({"j": m(status=status)})) is expected


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"eol_version": True}, "eol_version"),
        ({"missing_tags": ["owner"]}, "missing_tags"),
        ({"secret_arguments": ["--db_password"]}, "secrets_in_arguments"),
        ({"flex_eligible": True}, "flex_eligible"),
        ({"status": "abandoned"}, "inactive"),
        ({"failure_rate_30d": 1.0, "finished_runs_30d": 5}, "failing"),
    ],
)
def test_each_reason_alone(overrides, reason):
    assert by_key({"j": m(**overrides)})["j"].reasons == [reason]


def test_no_reason_no_candidate():
    assert select_candidates({"j": m()}, SETTINGS) == []
    assert select_candidates({}, SETTINGS) == []


def test_reasons_in_fixed_order():
    everything = m(
        monthly_projection_usd=500.0, failure_rate_30d=1.0, finished_runs_30d=3, failed_cost_30d_usd=20.0,
        status="stale", eol_version=True, missing_tags=["owner"], secret_arguments=["--token"],
        flex_eligible=True,
    )
    assert by_key({"j": everything})["j"].reasons == list(REASONS) == [
        "high_cost", "failing", "inactive", "eol_version", "missing_tags", "secrets_in_arguments",
        "flex_eligible",
    ]


def test_savings_of_actions_taken_together_compose_and_the_rule_of_thumb_stays_apart():
    jobs = fleet([200.0] + [1.0] * 9)
    jobs["job00"]["flex_eligible"] = True
    candidate = by_key(jobs)["job00"]
    assert candidate.reasons == ["high_cost", "flex_eligible"]
    flex = 200 * (1 - 0.29 / 0.44)
    assert candidate.savings_by_reason == pytest.approx({"high_cost": 0.30 * 200, "flex_eligible": flex})
    # Right-sizing and FLEX change different factors of the bill: 200 × (1 − 0.70 × 0.29/0.44), never the sum.
    together = 200 * (1 - 0.70 * 0.29 / 0.44)
    assert candidate.estimated_monthly_savings_usd == pytest.approx(together) and together < 60 + flex
    assert candidate.savings_by_basis == pytest.approx(
        {"measured": 0.0, "exact": flex, "rule_of_thumb": together - flex})
    assert candidate.savings_basis == "exact"
    assert candidate.score == pytest.approx(together)
    assert candidate.priority == "medium"


def test_failing_saves_the_cost_of_failed_runs():
    jobs = {"j": m(monthly_projection_usd=40.0, failure_rate_30d=0.75, finished_runs_30d=4,
                   failed_cost_30d_usd=30.0)}
    jobs["other"] = m(monthly_projection_usd=90.0)  # keeps j out of the top 10 %
    candidate = by_key(jobs)["j"]
    assert candidate.reasons == ["failing"]
    assert candidate.savings_by_reason == {"failing": 30.0}
    assert candidate.score == pytest.approx(30.0 + 250)
    assert candidate.priority == "high"


def test_inactive_saves_the_whole_projection():
    jobs = {"j": m(status="stale", monthly_projection_usd=40.0), "other": m(monthly_projection_usd=90.0)}
    candidate = by_key(jobs)["j"]
    assert candidate.savings_by_reason == {"inactive": 40.0}
    assert candidate.estimated_monthly_savings_usd == 40.0
    assert candidate.score == pytest.approx(40.0 + 50)
    assert candidate.priority == "medium"


def test_savings_never_exceed_the_projection():
    jobs = {"j": m(monthly_projection_usd=10.0, failure_rate_30d=1.0, finished_runs_30d=3,
                   failed_cost_30d_usd=25.0), "other": m(monthly_projection_usd=90.0)}
    assert by_key(jobs)["j"].estimated_monthly_savings_usd == 10.0


def test_flex_savings_use_the_region_prices():
    settings = Settings(pricing=Pricing(standard={"default": 0.44, "test-region-1": 0.5},
                                        flex={"default": 0.29, "test-region-1": 0.3}))
    jobs = {"j": m(region="test-region-1", monthly_projection_usd=50.0, flex_eligible=True),
            "other": m(monthly_projection_usd=90.0)}
    candidate = {c.key: c for c in select_candidates(jobs, settings)}["j"]
    assert candidate.savings_by_reason == pytest.approx({"flex_eligible": 50 * (1 - 0.3 / 0.5)})


@pytest.mark.parametrize(
    ("overrides", "score", "priority"),
    [
        ({"secret_arguments": ["--token"]}, 0 + 1000, "critical"),
        ({"eol_version": True}, 0 + 250, "high"),
        ({"status": "never_run"}, 0 + 50, "medium"),
        ({"missing_tags": ["owner"]}, 0 + 10, "low"),
        ({"monthly_projection_usd": 5000.0}, 0.30 * 5000, "critical"),
        ({"monthly_projection_usd": 900.0}, 0.30 * 900, "high"),
        ({"monthly_projection_usd": 100.0}, 0.30 * 100, "low"),
        ({"monthly_projection_usd": 100.0, "missing_tags": ["owner"]}, 0.30 * 100 + 10, "low"),
        ({"monthly_projection_usd": 100.0, "eol_version": True, "missing_tags": ["owner"]},
         0.30 * 100 + 250 + 10, "high"),
    ],
)
def test_score_and_priority(overrides, score, priority):
    candidate = by_key({"j": m(**overrides)})["j"]
    assert candidate.score == pytest.approx(score)
    assert candidate.priority == priority


def test_ordering_by_score_then_key():
    jobs = {
        "b-secret": m(secret_arguments=["--token"]),
        "a-secret": m(secret_arguments=["--password"]),
        "eol": m(eol_version=True),
        "untagged": m(missing_tags=["owner"]),
        "abandoned": m(status="abandoned"),
        "tidy": m(),
    }
    ordered = select_candidates(jobs, SETTINGS)
    assert [c.key for c in ordered] == ["a-secret", "b-secret", "eol", "abandoned", "untagged"]
    assert [c.priority for c in ordered] == ["critical", "critical", "high", "medium", "low"]
    assert select_candidates(dict(reversed(list(jobs.items()))), SETTINGS) == ordered
