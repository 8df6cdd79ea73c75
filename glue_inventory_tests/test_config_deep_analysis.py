"""The deep-analysis lanes in the config: two lane sizes, and the old single `top_k` as a deprecated alias."""

import pytest

from glue_inventory.config import ConfigError, load_settings, split_lanes


@pytest.mark.parametrize(("jobs", "lanes"), [(10, (5, 5)), (9, (5, 4)), (1, (1, 0)), (0, (0, 0))])
def test_a_number_of_jobs_is_split_savings_first(jobs, lanes):
    assert split_lanes(jobs) == lanes


def lanes(tmp_path, deep_analysis: str) -> tuple[int, int]:
    config = tmp_path / "config.yaml"
    config.write_text(f"deep_analysis: {deep_analysis}\n")
    deep = load_settings(config).deep_analysis
    return deep.top_k_savings, deep.top_k_risk


def test_the_lanes_default_to_twenty_by_saving_and_ten_by_risk(tmp_path):
    assert lanes(tmp_path, "{script_max_bytes: 1000}") == (20, 10)


def test_top_k_alone_still_works_and_says_it_is_deprecated(tmp_path):
    with pytest.warns(FutureWarning, match="top_k_savings and deep_analysis.top_k_risk"):
        assert lanes(tmp_path, "{top_k: 25}") == (13, 12)


def test_lanes_set_beside_top_k_win(tmp_path):
    with pytest.warns(FutureWarning):
        assert lanes(tmp_path, "{top_k: 25, top_k_savings: 3}") == (3, 10)


def test_a_negative_lane_is_refused_with_its_key(tmp_path):
    with pytest.raises(ConfigError, match="deep_analysis.top_k_risk"):
        lanes(tmp_path, "{top_k_risk: -1}")
