"""The deep-analysis lanes in the config: two lane sizes, and the old single `top_k` as a deprecated alias."""

import pytest

from glue_inventory.config import ConfigError, load_settings, split_lanes


@pytest.mark.parametrize(("jobs", "lanes"), [(10, (5, 5)), (9, (5, 4)), (1, (1, 0)), (0, (0, 0))])
def test_a_number_of_jobs_is_split_savings_first(jobs, lanes):
    assert split_lanes(jobs) == lanes


def test_the_lanes_default_to_twenty_by_saving_and_ten_by_risk(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("deep_analysis: {script_max_bytes: 1000}\n")
    deep = load_settings(config).deep_analysis
    assert (deep.top_k_savings, deep.top_k_risk) == (20, 10)


def test_top_k_alone_still_works_and_says_it_is_deprecated(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("deep_analysis: {top_k: 25}\n")
    with pytest.warns(FutureWarning, match="top_k_savings and deep_analysis.top_k_risk"):
        deep = load_settings(config).deep_analysis
    assert (deep.top_k_savings, deep.top_k_risk) == (13, 12)


def test_lanes_set_beside_top_k_win(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("deep_analysis: {top_k: 25, top_k_savings: 3}\n")
    with pytest.warns(FutureWarning):
        deep = load_settings(config).deep_analysis
    assert (deep.top_k_savings, deep.top_k_risk) == (3, 10)


def test_a_negative_lane_is_refused_with_its_key(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("deep_analysis: {top_k_risk: -1}\n")
    with pytest.raises(ConfigError, match="deep_analysis.top_k_risk"):
        load_settings(config)
