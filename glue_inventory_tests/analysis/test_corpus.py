"""The rules on the labelled corpus (corpus/, expectations.yaml): every labelled finding found, nothing else.

bench/eval_rules.py prints the same comparison as recall and false-finding rate per rule.
"""

from pathlib import Path

import pytest
import yaml

from glue_inventory.analysis.code.analysis import ScriptJob, analyse_scripts
from glue_inventory.analysis.code.rules import RULE_IDS, run_code_rules
from glue_inventory.analysis.code.script import inspect_script
from glue_inventory.analysis.findings import JobContext

CORPUS = Path(__file__).parent / "corpus"
LABELS = yaml.safe_load((CORPUS / "expectations.yaml").read_text(encoding="utf-8"))["scripts"]
TOOL_RULES = {"secret-in-script", "bandit:B105", "bandit:B106", "bandit:B107", "pylint:E0602", "pylint:W0718"}


def _context(entry: dict) -> JobContext:
    job = entry.get("job") or {}
    return JobContext(job_type=job.get("type"), bookmark_option=job.get("bookmarks"))


def _expected(entry: dict, rules: set[str]) -> set[tuple[str, int]]:
    return {(item["rule"], item["line"]) for item in entry.get("expect") or [] if item["rule"] in rules}


def test_the_corpus_is_large_labelled_and_covers_every_new_rule():
    scripts = {path.name for path in CORPUS.glob("*.py")}
    assert scripts == set(LABELS) and len(scripts) >= 30
    labelled = [item["rule"] for entry in LABELS.values() for item in entry.get("expect") or []]
    for rule in ("bookmark-source-without-ctx", "bookmark-spark-native-read", "bookmark-without-job-init",
                 "single-partition-write", "withcolumn-in-loop", "streaming-batch-work",
                 "spark-job-without-spark-work", "sql-from-strings", "hardcoded-credentials"):
        assert labelled.count(rule) >= 1, rule
    clean = [name for name, entry in LABELS.items() if not entry.get("expect")]
    assert len(clean) >= 15


@pytest.mark.parametrize("name", sorted(LABELS))
def test_ast_rules_find_exactly_the_labels(name):
    entry = LABELS[name]
    findings = run_code_rules((CORPUS / name).read_text(encoding="utf-8"), _context(entry))
    assert {(f["rule_id"], f["line"]) for f in findings} == _expected(entry, set(RULE_IDS))


def test_secrets_and_tools_find_exactly_the_labels():
    """One batch through the whole code analysis: the secrets scan, bandit and pylint as the asset runs them."""
    items = []
    for name, entry in LABELS.items():
        data = (CORPUS / name).read_bytes()
        items.append(ScriptJob(inspect_script(data, location=f"s3://corpus/{name}", max_bytes=len(data) + 1), {},
                               _context(entry)))
    results = analyse_scripts(items, timeout_s=120)
    for (name, entry), result in zip(LABELS.items(), results, strict=True):
        assert result["tools"] == {"pylint": "ran", "bandit": "ran"}, name
        found = {(f["rule_id"], f["line"]) for f in result["findings"] if f["rule_id"] in TOOL_RULES}
        assert found == _expected(entry, TOOL_RULES), name


def test_secret_names_stay_readable_and_secret_values_do_not():
    names = inspect_script((CORPUS / "secrets_manager_names.py").read_bytes(), location="s3://c/a.py",
                           max_bytes=1 << 20)
    assert 'secret_name = "prod/glue/crm-postgres"' in names.text
    assert 'api_secret = "prod/glue/crm-api"' in names.text
    assert 'def api_token(name="prod/glue/crm-api-token"):' in names.text
    leaky = inspect_script((CORPUS / "secrets_hardcoded.py").read_bytes(), location="s3://c/b.py", max_bytes=1 << 20)
    for value in ("Crm-Load-2019!x", "tok_live_8JqL2mZx7VwRt4Yp", "Replica-Read-11"):
        assert value not in leaky.text
