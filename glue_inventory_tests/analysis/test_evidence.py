"""Priority from evidence: what a deep analysis establishes, and how it rescores a candidate."""

import pytest

from glue_inventory.analysis.candidates import Evidence, rescore
from glue_inventory.analysis.evidence import evidence_of, python_shell_saving
from glue_inventory.analysis.findings import bookmark_option

CREDENTIAL = {"rule_id": "hardcoded-credentials", "severity": "critical", "line": 3}
SQL = {"rule_id": "sql-from-strings", "severity": "high", "line": 9}
STYLE = {"rule_id": "pylint:W0611", "severity": "low", "line": 1}
OVER = {"status": "over_provisioned", "estimated_monthly_savings_usd": 120.0}


def test_a_critical_security_finding_makes_a_low_job_critical():
    before = rescore("k", ["missing_tags"], {"missing_tags": 0.0}, 40.0, None)
    after = rescore("k", ["missing_tags"], {"missing_tags": 0.0}, 40.0, evidence_of([CREDENTIAL, STYLE], None, None))
    assert before.priority == "low" and after.priority == "critical"
    assert after.reasons == ["missing_tags", "code_findings"] and after.score == 1010.0


def test_a_high_security_finding_makes_a_job_at_least_high():
    evidence = evidence_of([SQL], None, None)
    assert evidence.security == "high" and evidence.security_rules == ["sql-from-strings"]
    assert rescore("k", [], {}, 0.0, evidence).priority == "high"


def test_findings_that_are_no_security_risk_change_nothing():
    evidence = evidence_of([STYLE, {"rule_id": "bandit:B324", "severity": "high", "line": 2}], None, None)
    assert evidence.security is None
    assert rescore("k", [], {}, 0.0, evidence).reasons == []  # not a candidate


def test_measured_right_sizing_replaces_the_thirty_percent_estimate():
    estimated = rescore("k", ["high_cost"], {"high_cost": 300.0}, 1000.0, None)
    measured = rescore("k", ["high_cost"], {"high_cost": 300.0}, 1000.0, evidence_of([], OVER, None))
    assert (estimated.estimated_monthly_savings_usd, estimated.savings_basis) == (300.0, "rule_of_thumb")
    assert estimated.savings_by_basis == {"measured": 0.0, "exact": 0.0, "rule_of_thumb": 300.0}
    assert measured.savings_by_reason == {"right_sizing": 120.0}
    assert (measured.estimated_monthly_savings_usd, measured.savings_basis) == (120.0, "measured")
    assert measured.savings_by_basis == {"measured": 120.0, "exact": 0.0, "rule_of_thumb": 0.0}
    assert measured.score == 120.0


@pytest.mark.parametrize("status", ["metrics_disabled", "insufficient_data", "not_applicable"])
def test_without_usable_metrics_the_estimate_stays(status):
    evidence = evidence_of([], {"status": status, "estimated_monthly_savings_usd": 0.0}, None)
    candidate = rescore("k", ["high_cost"], {"high_cost": 300.0}, 1000.0, evidence)
    assert candidate.savings_by_reason == {"high_cost": 300.0} and candidate.savings_basis == "rule_of_thumb"


def test_a_right_sized_job_has_a_measured_saving_of_zero_and_keeps_its_exact_savings():
    evidence = evidence_of([], {"status": "right_sized", "estimated_monthly_savings_usd": 0.0}, None)
    candidate = rescore("k", ["high_cost", "flex_eligible"], {"high_cost": 300.0, "flex_eligible": 340.0}, 1000.0,
                        evidence)
    assert candidate.savings_by_reason == {"flex_eligible": 340.0, "right_sizing": 0.0}
    assert (candidate.estimated_monthly_savings_usd, candidate.savings_basis) == (340.0, "exact")
    assert candidate.savings_by_basis == {"measured": 0.0, "exact": 340.0, "rule_of_thumb": 0.0}


def test_python_shell_saving_from_the_jobs_own_runs():
    # Three runs of 10 minutes on 10 DPU at 0.44: 3 × 10/60 × 10 × 0.44 = 2.20 USD. As Python shell on
    # 0.0625 DPU: 3 × 600 s × 0.0625 / 3600 × 0.44 = 0.01375 USD. A 20-second run is billed a minute.
    runs = [(600, 10 / 60 * 10 * 0.44)] * 3
    assert python_shell_saving(runs, 0.0625, 0.44) == pytest.approx(2.2 - 0.01375)
    assert python_shell_saving([(20, 0.0)], 0.0625, 0.44) == 0.0
    evidence = evidence_of([], None, python_shell_saving(runs, 0.0625, 0.44))
    candidate = rescore("k", ["high_cost"], {"high_cost": 0.66}, 2.2, evidence)
    assert candidate.savings_basis == "measured"
    assert candidate.estimated_monthly_savings_usd == pytest.approx(2.2 - 0.01375)


def test_evidence_round_trips_through_json():
    evidence = evidence_of([CREDENTIAL], OVER, 12.5)
    assert Evidence.from_dict(evidence.to_dict()) == evidence
    assert Evidence.from_dict(None) is None


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"--job-bookmark-option": "job-bookmark-enable"}, "job-bookmark-enable"),
    ({"--job-bookmark-option": " Job-Bookmark-Pause "}, "job-bookmark-pause"),
    ({"--TempDir": "s3://b/t"}, "job-bookmark-disable"),  # Glue's default
    ({"--job-bookmark-option": "hunter2"}, None),  # anything else is not kept
])
def test_only_a_recognised_bookmark_option_is_kept(arguments, expected):
    assert bookmark_option(arguments) == expected
