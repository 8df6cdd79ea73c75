"""Benchmark: code analysis of 50 simulated job scripts, cold (AST rules, pylint, bandit) and warm (cache).

    .venv/bin/python bench/deep_analysis.py [--scripts 50] [--database sqlite:///...]

Cold: every script inspected and analysed, the result stored in `code_analysis_cache` as the
`job_code_analysis` asset does; warm: the same scripts answered from that cache. Prints seconds per
script and the ratio; the machine's load average is printed too, since pylint is CPU-bound.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime

from glue_inventory.analysis.code_analysis import analyse_script, cache_key
from glue_inventory.analysis.code_rules import RULES_VERSION
from glue_inventory.analysis.script import inspect_script
from glue_inventory.analysis.static_tools import tool_versions
from glue_inventory.simulate import build_fleet
from glue_inventory.storage import repository
from glue_inventory.storage.db import engine_for

MAX_BYTES = 2 * 1024 * 1024
TIMEOUT_S = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts", type=int, default=50)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = engine_for(url)
    fleet = build_fleet(max(args.scripts * 2, 60), 42, datetime.now(UTC))
    jobs = [job for job in fleet.jobs if not job.profile.script_missing][:args.scripts]
    versions = tool_versions()

    started = time.perf_counter()
    findings = 0
    for job in jobs:
        info = inspect_script(job.script.text.encode(), location=job.script_location, max_bytes=MAX_BYTES,
                              job_language=job.default_arguments.get("--job-language"))
        result = analyse_script(info, job.default_arguments, timeout_s=TIMEOUT_S)
        findings += len(result["findings"])
        with engine.begin() as conn:
            repository.cache_put(conn, "code_analysis_cache", cache_key(info.sha256, versions, RULES_VERSION), result)
    cold = time.perf_counter() - started

    started = time.perf_counter()
    hits = 0
    for job in jobs:
        info = inspect_script(job.script.text.encode(), location=job.script_location, max_bytes=MAX_BYTES,
                              job_language=job.default_arguments.get("--job-language"))
        with engine.connect() as conn:
            hits += repository.cache_get(conn, "code_analysis_cache",
                                         cache_key(info.sha256, versions, RULES_VERSION)) is not None
    warm = time.perf_counter() - started

    print(f"scripts: {len(jobs)}, findings: {findings}, cores: {os.cpu_count()}, "
          f"load average: {os.getloadavg()[0]:.1f}")
    print(f"cold (AST + pylint + bandit): {cold:7.2f} s total, {cold / len(jobs):.3f} s per script")
    print(f"warm (cache, {hits} hits):     {warm:7.2f} s total, {warm / len(jobs):.4f} s per script")
    print(f"warm is {cold / warm:,.0f}x faster")


if __name__ == "__main__":
    main()
