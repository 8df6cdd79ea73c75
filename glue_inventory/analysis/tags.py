"""Required tags a job lacks (DESIGN.md, "required tags")."""

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
