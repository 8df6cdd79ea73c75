"""Evaluation of the code rules on the labelled corpus: recall and false findings per rule (not a test).

    .venv/bin/python bench/eval_rules.py [--no-tools]        # or: make eval

Every corpus script (glue_inventory_tests/analysis/corpus/, written for this project) is analysed as the
`job_code_analysis` asset analyses it, with the job definition its label gives (Command.Name,
--job-bookmark-option): AST rules, secrets, and pylint and bandit in one batch. A finding of an evaluated
rule matches a label when rule and line agree. Per rule: recall = matched labels / labels, false-finding
rate = unmatched findings / findings. Targets (issue 14): recall >= 0.95, false findings <= 5 %.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import yaml

from glue_inventory.analysis.code.analysis import ScriptJob, analyse_scripts
from glue_inventory.analysis.code.rules import RULE_IDS
from glue_inventory.analysis.code.script import inspect_script
from glue_inventory.analysis.findings import JobContext

CORPUS = Path(__file__).resolve().parent.parent / "glue_inventory_tests" / "analysis" / "corpus"
# The AST rules, the secrets scan, bandit's hard-coded password tests (string, argument, default) and the
# pylint checks the issue names: undefined names and broad excepts. Other tool messages are not labelled.
EVALUATED = (
    {rule for rule in RULE_IDS if rule not in ("python2-syntax", "syntax-error", "too-deeply-nested", "rule-error")}
    | {"secret-in-script", "bandit:B105", "bandit:B106", "bandit:B107", "pylint:E0602", "pylint:W0718"}
)
RECALL_TARGET = 0.95
FALSE_TARGET = 0.05


def load_corpus() -> dict[str, dict]:
    """Script name → {"job": JobContext, "expect": {(rule, line)}} from expectations.yaml."""
    labels = yaml.safe_load((CORPUS / "expectations.yaml").read_text(encoding="utf-8"))["scripts"]
    return {
        name: {
            "job": JobContext(job_type=(entry.get("job") or {}).get("type"),
                              bookmark_option=(entry.get("job") or {}).get("bookmarks")),
            "expect": {(item["rule"], item["line"]) for item in entry.get("expect") or []},
        }
        for name, entry in labels.items()
    }


def analyse_corpus(corpus: dict[str, dict], tools: bool) -> dict[str, set[tuple[str, int | None]]]:
    """Script name → (rule, line) of every evaluated finding."""
    items = []
    for name, entry in corpus.items():
        data = (CORPUS / name).read_bytes()
        info = inspect_script(data, location=f"s3://corpus/{name}", max_bytes=len(data) + 1)
        items.append(ScriptJob(info, {}, entry["job"]))
    # A timeout this small stops the tools at once: their findings are simply missing.
    results = analyse_scripts(items, timeout_s=60.0 if tools else 0.001)
    return {
        name: {(f["rule_id"], f["line"]) for f in result["findings"] if f["rule_id"] in EVALUATED}
        for name, result in zip(corpus, results, strict=True)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-tools", action="store_true", help="AST rules and secrets only (no pylint, bandit)")
    args = parser.parse_args()
    corpus = load_corpus()
    started = time.perf_counter()
    found = analyse_corpus(corpus, tools=not args.no_tools)
    elapsed = time.perf_counter() - started

    labels, hits, false = Counter(), Counter(), Counter()
    misses, extras = [], []
    for name, entry in corpus.items():
        for rule, line in sorted(entry["expect"], key=str):
            labels[rule] += 1
            if (rule, line) in found[name]:
                hits[rule] += 1
            else:
                misses.append(f"{name}:{line} {rule}")
        for rule, line in sorted(found[name] - entry["expect"], key=str):
            false[rule] += 1
            extras.append(f"{name}:{line} {rule}")

    print(f"{len(corpus)} scripts, {sum(labels.values())} labelled findings, analysed in {elapsed:.1f} s"
          f"{' (tools off)' if args.no_tools else ''}")
    print(f"{'rule':32} {'labels':>6} {'found':>6} {'true':>5} {'false':>5} {'recall':>7} {'false %':>8}")
    for rule in sorted(set(labels) | set(false)):
        findings = hits[rule] + false[rule]
        recall = f"{hits[rule] / labels[rule]:.2f}" if labels[rule] else "—"
        rate = f"{false[rule] / findings:.1%}" if findings else "—"
        print(f"{rule:32} {labels[rule]:6} {findings:6} {hits[rule]:5} {false[rule]:5} {recall:>7} {rate:>8}")
    total_labels, total_hits, total_false = sum(labels.values()), sum(hits.values()), sum(false.values())
    recall = total_hits / total_labels if total_labels else 1.0
    rate = total_false / (total_hits + total_false) if total_hits + total_false else 0.0
    print(f"{'all rules':32} {total_labels:6} {total_hits + total_false:6} {total_hits:5} {total_false:5} "
          f"{recall:7.2f} {rate:8.1%}")
    met = recall >= RECALL_TARGET and rate <= FALSE_TARGET
    print(f"targets recall >= {RECALL_TARGET}, false findings <= {FALSE_TARGET:.0%}: {'met' if met else 'NOT met'}")
    for line in misses:
        print(f"missed: {line}")
    for line in extras:
        print(f"false:  {line}")


if __name__ == "__main__":
    main()
