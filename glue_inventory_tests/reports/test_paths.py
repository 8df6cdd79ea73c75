"""Report file names: unique, reversible and safe for any Glue job name."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glue_inventory.reports.paths import job_key_from_relpath, job_report_relpath, report_href

ODD_NAMES = [
    "plain_job-1",
    "with space",
    "dots.in.name",
    ".",
    "..",
    "...",
    ".hidden",
    "a/b/../c",
    "/leading/slash",
    "trailing.",
    "données-été ☃",
    "日本語ジョブ",
    "tab\there",
    "percent%41",
    "%2F",
    "<script>alert(1)</script>",
    "quote\"and'apos",
    "back\\slash",
    "colon:star*question?pipe|",
    "tilde~home",
    "emoji 🚀",
    "Case",
    "case",
    "x" * 255,
    "é" * 255,
]
# Glue's job-name pattern allows any character except control characters other than tab.
glue_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), whitelist_characters="\t"), min_size=1, max_size=255
)


def key(name: str) -> str:
    return f"123456789012/us-east-1/{name}"


@pytest.mark.parametrize("name", ODD_NAMES)
def test_relpath_is_safe_and_reversible(name: str) -> None:
    relpath = job_report_relpath(key(name))
    assert job_key_from_relpath(relpath) == key(name)
    assert relpath.startswith("jobs/123456789012/us-east-1/") and relpath.endswith(".md")
    segments = relpath.split("/")
    assert all(re.fullmatch(r"[A-Za-z0-9_%.-]+", s) for s in segments), relpath
    assert all(s not in ("", ".", "..") and not s.startswith(".") for s in segments)
    # One file-name component must fit the 255-byte limit of ext4, APFS and NTFS.
    assert max(len(s.encode()) for s in segments) <= 255


def test_odd_names_give_distinct_paths() -> None:
    paths = [job_report_relpath(key(name)) for name in ODD_NAMES]
    assert len(set(paths)) == len(ODD_NAMES)


def test_key_parts_are_kept_apart() -> None:
    assert job_report_relpath("1/r/a/b") != job_report_relpath("1/r/a%2Fb")
    assert job_report_relpath("1/r/x") != job_report_relpath("1/r2/x")


@given(glue_names)
def test_any_glue_name_round_trips(name: str) -> None:
    relpath = job_report_relpath(key(name))
    assert job_key_from_relpath(relpath) == key(name)
    assert max(len(s) for s in relpath.split("/")) <= 255


@given(glue_names, glue_names)
def test_distinct_names_never_collide(a: str, b: str) -> None:
    if a != b:
        assert job_report_relpath(key(a)) != job_report_relpath(key(b))


@pytest.mark.parametrize("name", ["with space", "percent%41", "<script>alert(1)</script>", "é"])
def test_href_points_at_the_file(name: str) -> None:
    relpath = job_report_relpath(key(name))
    href = report_href(relpath)
    assert unquote(href) == relpath
    assert re.fullmatch(r"[A-Za-z0-9_%./-]+", href)


@pytest.mark.parametrize("bad", ["", "no-slashes", "1/r", "1//name", "/r/name"])
def test_malformed_keys_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="account_id"):
        job_report_relpath(bad)
