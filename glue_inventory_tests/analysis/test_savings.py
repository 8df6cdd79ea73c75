"""What a job's savings add up to and what each dollar rests on (analysis/cost/savings.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glue_inventory.analysis.cost.savings import (
    ACTION_BASIS,
    basis_of,
    best_actions,
    fleet_savings,
    job_savings,
    together,
)


@pytest.mark.parametrize(("action", "basis"), [
    ("right_sizing", "measured"), ("python_shell", "measured"), ("inactive", "exact"), ("flex_eligible", "exact"),
    ("failing", "exact"), ("high_cost", "rule_of_thumb"),
    ("something_new", "rule_of_thumb"),  # unknown: never counted as identified
])
def test_every_action_has_a_basis(action, basis):
    assert basis_of(action) == basis


def test_actions_taken_together_apply_to_what_the_others_leave():
    # Failed runs cost 20 of 100; right-sizing saves 40 %; FLEX 34 %: 100 − 80 × 0.6 × 0.66 = 68.32.
    assert together(100.0, [20.0, 40.0, 34.0]) == pytest.approx(100 - 80 * 0.6 * 0.66)
    assert together(100.0, [30.0]) == 30.0
    assert together(100.0, [250.0]) == 100.0  # never above the cost
    assert together(0.0, [5.0]) == 0.0


def test_deleting_a_job_stands_alone():
    saving, actions = best_actions(100.0, {"inactive": 100.0, "flex_eligible": 34.0, "failing": 10.0})
    assert (saving, actions) == (100.0, ("inactive",))


def test_a_python_shell_job_has_no_flex_class():
    saving, actions = best_actions(100.0, {"python_shell": 90.0, "flex_eligible": 34.0})
    assert actions == ("python_shell",) and saving == 90.0


def test_the_rule_of_thumb_is_potential_and_never_identified():
    split = job_savings(200.0, {"high_cost": 60.0, "flex_eligible": 68.18, "failing": 10.0})
    identified = together(200.0, [68.18, 10.0])
    assert split.identified_usd == pytest.approx(identified)
    assert split.by_basis["exact"] == pytest.approx(identified) and split.by_basis["measured"] == 0.0
    assert split.total_usd == pytest.approx(together(200.0, [60.0, 68.18, 10.0]))
    assert split.potential_usd == pytest.approx(split.total_usd - identified)
    assert split.basis == "exact"


def test_measured_and_exact_share_the_identified_saving_by_their_own_savings():
    split = job_savings(100.0, {"right_sizing": 40.0, "flex_eligible": 20.0})
    assert split.total_usd == pytest.approx(52.0)  # 40 + 20 × 0.6
    assert split.by_basis["measured"] == pytest.approx(52.0 * 40 / 60)
    assert split.by_basis["exact"] == pytest.approx(52.0 * 20 / 60)
    assert split.potential_usd == 0.0 and split.basis == "measured"


def test_nothing_to_save_has_no_basis():
    assert job_savings(100.0, {"missing_tags": 0.0}).basis is None
    assert job_savings(0.0, {"high_cost": 0.0}).total_usd == 0.0


amounts = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False),
       st.dictionaries(st.sampled_from(sorted(ACTION_BASIS)), amounts, max_size=len(ACTION_BASIS)))
def test_a_job_never_saves_more_than_it_costs_and_the_parts_add_up(monthly, savings):
    split = job_savings(monthly, savings)
    assert 0.0 <= split.total_usd <= monthly * (1 + 1e-12)
    assert all(part >= -1e-9 for part in split.by_basis.values())
    assert split.identified_usd + split.potential_usd == pytest.approx(split.total_usd, abs=1e-6)
    without_rule_of_thumb = {k: v for k, v in savings.items() if basis_of(k) != "rule_of_thumb"}
    assert split.identified_usd == pytest.approx(job_savings(monthly, without_rule_of_thumb).total_usd, abs=1e-6)


def test_fleet_figures_add_up_as_printed():
    jobs = [{"measured": 10.004, "exact": 5.004, "rule_of_thumb": 1.0}, {"exact": 0.004}, None]
    fleet = fleet_savings(jobs)
    assert fleet == {"measured": 10.0, "exact": 5.01, "rule_of_thumb": 1.0, "identified": 15.01, "potential": 1.0}


def test_a_skewed_stage_fixed_with_right_sizing_is_measured_on_what_right_sizing_leaves():
    # $1,000 a month; right-sizing saves $500, fixing the skew 20 % of the run ($200): 1000 × (1 − 0.5 × 0.8).
    split = job_savings(1000.0, {"right_sizing": 500.0, "skewed_stage": 200.0})
    assert split.total_usd == pytest.approx(600.0)
    assert split.by_basis["measured"] == pytest.approx(600.0) and split.by_basis["exact"] == 0.0
    assert set(split.actions) == {"right_sizing", "skewed_stage"}
