"""Required tags a job lacks (docs/rules.md, "required tags")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def tag_value(tags: Mapping[str, str], key: str) -> str:
    """The value of `key` matched case-insensitively ("" when absent); Glue tag keys are case-sensitive,
    but `Owner` and `owner` mean the same to the people reading the report."""
    wanted = key.strip().casefold()
    for name, value in tags.items():
        if name.strip().casefold() == wanted and (value or "").strip():
            return value.strip()
    return ""


def missing_tags(tags: Mapping[str, str], required: Iterable[str]) -> list[str]:
    """Required keys with no non-blank value, in the order `required` lists them."""
    return [key for key in required if not tag_value(tags, key)]


# Who a job belongs to, each from its own tag: the owner is a person, the team a group, the cost center
# the budget it is billed to. None when the tag is absent: a report says "no owner tag", never a fallback.
OWNERSHIP_TAGS = {"owner": "owner", "team": "team", "cost_center": "cost-center"}


def ownership(tags: Mapping[str, str]) -> dict[str, str | None]:
    """{"owner", "team", "cost_center"} from the `owner`, `team` and `cost-center` tags (None when absent)."""
    return {field: tag_value(tags, key) or None for field, key in OWNERSHIP_TAGS.items()}
