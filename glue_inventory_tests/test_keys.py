import pytest
from dagster._core.definitions.partitions.utils.base import INVALID_PARTITION_SUBSTRINGS
from hypothesis import given
from hypothesis import strategies as st

from glue_inventory.keys import JobKey, decode_partition_key, encode_partition_key, spread_over_platforms


@pytest.mark.parametrize(("name", "encoded"), [
    ("daily_sales", "daily_sales"),
    ("daily sales.eu", "daily sales.eu"),
    ("ingest...raw", "ingest%2E%2E%2Eraw"),
    ("a....b", "a%2E%2E%2E%2Eb"),
    ("100%", "100%25"),
    ("tab\there", "tab%09here"),
    ("données/clients", "données/clients"),
])
def test_encode_known_names(name, encoded):
    assert encode_partition_key("123456789012", "us-east-1", name) == f"123456789012/us-east-1/{encoded}"
    assert decode_partition_key(f"123456789012/us-east-1/{encoded}") == JobKey("123456789012", "us-east-1", name)


@given(st.text(min_size=1, max_size=80))
def test_round_trip_and_dagster_accepts_every_name(name):
    key = encode_partition_key("123456789012", "eu-west-1", name)
    assert not any(bad in key for bad in INVALID_PARTITION_SUBSTRINGS)
    assert decode_partition_key(key).name == name


def test_malformed_key_names_the_shape():
    with pytest.raises(ValueError, match="<account_id>/<region>/<job_name>"):
        decode_partition_key("just-a-name")


def test_spread_over_platforms_spaces_each_account_region_evenly_and_keeps_each_ones_order():
    keys = ["111111111111/eu-west-1/a", "111111111111/eu-west-1/b",
            "111111111111/us-east-1/a", "111111111111/us-east-1/b", "111111111111/us-east-1/c/with/slash",
            "222222222222/us-east-1/z"]
    assert spread_over_platforms(keys) == [
        "111111111111/us-east-1/a", "111111111111/eu-west-1/a",
        "111111111111/us-east-1/b", "222222222222/us-east-1/z",
        "111111111111/eu-west-1/b", "111111111111/us-east-1/c/with/slash"]
    assert spread_over_platforms([]) == []


def test_spread_over_platforms_lets_every_platform_finish_with_the_run():
    """A large and a small Region: every stretch of the order holds both in proportion, so neither runs
    out early (round-robin would use up the small one in the first third)."""
    keys = [f"111111111111/us-east-1/job-{i:04d}" for i in range(850)] + \
           [f"111111111111/eu-west-1/job-{i:04d}" for i in range(150)]
    order = spread_over_platforms(keys)
    assert sorted(order) == sorted(keys)
    for end in range(100, 1001, 100):
        small = sum("/eu-west-1/" in key for key in order[:end])
        assert abs(small - end * 0.15) <= 1, end
    assert [k for k in order if "/eu-west-1/" in k] == sorted(k for k in keys if "/eu-west-1/" in k)
    equal = ["111111111111/us-east-1/a", "111111111111/us-east-1/b", "222222222222/us-east-1/a",
             "222222222222/us-east-1/b"]
    assert spread_over_platforms(equal) == [equal[0], equal[2], equal[1], equal[3]]  # equal sizes: round-robin
