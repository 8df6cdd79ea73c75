"""The README is the first hour: short, with the two commands, and every link in it leads somewhere.

mkdocs checks the links of docs/ (`make docs`); the README lives outside the site, so its links are checked here.
"""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
# The README answers what a newcomer needs in five minutes; the rest is in docs/.
MAX_BYTES = 12 * 1024


def test_the_readme_is_short_and_names_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= MAX_BYTES
    assert "make demo" in text and "make test" in text


def test_every_relative_link_of_the_readme_exists():
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text(encoding="utf-8"))
    local = [target for target in targets if "://" not in target]
    assert len(local) >= 10
    assert [target for target in local if not (REPO / target).exists()] == []


def test_every_page_of_docs_is_in_the_readmes_map():
    linked = set(re.findall(r"\]\(docs/([\w.-]+\.md)\)", README.read_text(encoding="utf-8")))
    pages = {page.name for page in (REPO / "docs").glob("*.md")} - {"index.md"}
    assert pages - linked == set()
