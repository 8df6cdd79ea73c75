"""Required tags: case-insensitive keys, blank values count as missing, order of the requirement."""

from __future__ import annotations

import pytest

from glue_inventory.analysis.tags import missing_tags, ownership

REQUIRED = ["owner", "cost-center"]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({}, ["owner", "cost-center"]),
        ({"owner": "data-team", "cost-center": "cc-42"}, []),
        ({"Owner": "data-team", "COST-CENTER": "cc-42"}, []),
        ({"owner": "data-team", "cost-center": ""}, ["cost-center"]),
        ({"owner": "   ", "cost-center": "cc-42"}, ["owner"]),
        ({"cost-center": "cc-42"}, ["owner"]),
        ({"owner ": "data-team", "cost-center": "cc-42"}, []),
        ({"costcenter": "cc-42", "owner": "x"}, ["cost-center"]),
        ({"env": "prod"}, ["owner", "cost-center"]),
    ],
)
def test_missing_tags(tags, expected):
    assert missing_tags(tags, REQUIRED) == expected


def test_missing_tags_keeps_the_order_of_the_requirement():
    assert missing_tags({}, ["cost-center", "owner", "team"]) == ["cost-center", "owner", "team"]


def test_nothing_required_nothing_missing():
    assert missing_tags({}, []) == []


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"owner": "ana", "team": "data", "cost-center": "CC-1"}, ("ana", "data", "CC-1")),
        # The cost center never stands in for a missing owner or team.
        ({"cost-center": "CC-3300"}, (None, None, "CC-3300")),
        ({"Team": " ml ", "OWNER": ""}, (None, "ml", None)),
        ({}, (None, None, None)),
    ],
)
def test_ownership_names_each_tag_for_what_it_is(tags, expected):
    people = ownership(tags)
    assert (people["owner"], people["team"], people["cost_center"]) == expected
