"""What every process of the tool pays before it does anything: importing `glue_inventory.definitions` (the
`dagster` CLI, the code server, each run and each step process do). Prints the import's wall time, the
process's peak RSS after it, and the memory allocated during the import by top-level package (tracemalloc).

    .venv/bin/python bench/imports.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, resource, sys, time, tracemalloc
from collections import Counter
traced = sys.argv[1] == "traced"
if traced:
    tracemalloc.start()
started = time.perf_counter()
import glue_inventory.definitions
seconds = time.perf_counter() - started
by_package = Counter()
if traced:
    for stat in tracemalloc.take_snapshot().statistics("filename"):
        path = stat.traceback[0].filename
        if "site-packages/" in path:
            package = path.split("site-packages/")[-1].split("/")[0].removesuffix(".py")
        else:
            package = "glue_inventory" if "/glue_inventory/" in path else "<stdlib>"
        by_package[package] += stat.size
print(json.dumps({"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "heavy": sorted(m for m in ("openai", "pyarrow", "s3fs", "pandas", "pylint", "jinja2", "numpy",
                                              "pygal", "detect_secrets", "requests", "aiobotocore")
                                  if m in sys.modules),
                  "by_package_mb": {k: round(v / 2**20, 1) for k, v in by_package.most_common(12)}}))
"""


def measure(traced: bool) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, "traced" if traced else "plain"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    plain = [measure(traced=False) for _ in range(args.repeats)]
    traced = measure(traced=True)
    print(f"import glue_inventory.definitions: {min(p['seconds'] for p in plain):.2f} s (fastest of "
          f"{args.repeats}), peak RSS {min(p['peak_rss_mb'] for p in plain):.0f} MB")
    print(f"heavy modules imported: {', '.join(plain[0]['heavy']) or 'none'}")
    print("allocated during the import, by top-level package (tracemalloc, MB):")
    for package, mb in traced["by_package_mb"].items():
        print(f"  {package:32} {mb:6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
