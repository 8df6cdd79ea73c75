"""Benchmark: code analysis of 200 simulated job scripts, cold (AST rules, pylint, bandit) and warm (cache).

    .venv/bin/python bench/deep_analysis.py [--scripts 200] [--skip-per-script] [--database sqlite:///...]

Three passes over the same scripts, in one run so that the machine's load is shared alike:
1. per script: pylint and bandit started once per script (two scripts at a time, one per core), as the
   analysis ran before batching;
2. batched: `analyse_scripts` in batches of `ANALYSIS_BATCH`, as the `job_code_analysis` asset runs it,
   each result stored in `code_analysis_cache`;
3. warm: the same scripts answered from that cache.
Prints seconds per script of each, the ratio of the first two and whether they found the same.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from glue_inventory.analysis.code.analysis import ScriptJob, analyse_script, analyse_scripts, cache_key
from glue_inventory.analysis.code.rules import RULES_VERSION
from glue_inventory.analysis.code.script import inspect_script
from glue_inventory.analysis.code.static_tools import tool_versions
from glue_inventory.services.code.review import ANALYSIS_BATCH
from glue_inventory.simulate import build_fleet
from glue_inventory.storage import repository
from glue_inventory.storage.db import engine_for

MAX_BYTES = 2 * 1024 * 1024
TIMEOUT_S = 60.0


def _findings(result: dict) -> list[tuple]:
    return [(f["rule_id"], f["line"]) for f in result["findings"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts", type=int, default=200)
    parser.add_argument("--skip-per-script", action="store_true", help="only the batched and warm passes")
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = engine_for(url)
    fleet = build_fleet(max(args.scripts * 2, 60), 42, datetime.now(UTC))
    jobs = [job for job in fleet.jobs if not job.profile.script_missing][:args.scripts]
    versions = tool_versions()
    items = [
        ScriptJob(inspect_script(job.script.text.encode(), location=job.script_location, max_bytes=MAX_BYTES,
                                 job_language=job.default_arguments.get("--job-language")), job.default_arguments)
        for job in jobs
    ]
    cores = os.cpu_count() or 1
    print(f"scripts: {len(items)}, cores: {cores}, load average at start: {os.getloadavg()[0]:.1f}")

    per_script = None
    if not args.skip_per_script:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=cores) as pool:
            single = list(pool.map(lambda item: analyse_script(item.info, item.default_arguments,
                                                               timeout_s=TIMEOUT_S), items))
        per_script = time.perf_counter() - started

    started = time.perf_counter()
    batched = []
    for start in range(0, len(items), ANALYSIS_BATCH):
        batched += analyse_scripts(items[start:start + ANALYSIS_BATCH], timeout_s=TIMEOUT_S)
    for item, result in zip(items, batched, strict=True):
        with engine.begin() as conn:
            repository.cache_put(conn, "code_analysis_cache", cache_key(item.info.sha256, versions, RULES_VERSION),
                                 result)
    cold = time.perf_counter() - started

    started = time.perf_counter()
    hits = 0
    for item in items:
        with engine.connect() as conn:
            hits += repository.cache_get(conn, "code_analysis_cache",
                                         cache_key(item.info.sha256, versions, RULES_VERSION)) is not None
    warm = time.perf_counter() - started

    count = len(items)
    findings = sum(len(result["findings"]) for result in batched)
    print(f"findings: {findings}, load average at end: {os.getloadavg()[0]:.1f}")
    if per_script is not None:
        differ = sum(_findings(a) != _findings(b) for a, b in zip(single, batched, strict=True))
        print(f"cold, per script (tools started per script): {per_script:7.2f} s total, "
              f"{per_script / count:.3f} s per script")
    print(f"cold, batched ({ANALYSIS_BATCH} per batch):          {cold:7.2f} s total, {cold / count:.3f} s per script")
    print(f"warm (cache, {hits} hits):                    {warm:7.2f} s total, {warm / count:.4f} s per script")
    if per_script is not None:
        print(f"batched is {per_script / cold:.1f}x faster than per script; scripts whose findings differ: {differ}")
    print(f"warm is {cold / warm:,.0f}x faster than batched cold")


if __name__ == "__main__":
    main()
