"""The child process of `event_logs.py`: parse one local event log file and print its figures as JSON.

Kept apart so its peak RSS holds the reader and nothing else (no simulator, no Dagster).

    .venv/bin/python bench/event_log_parse.py FILE CODEC
"""

from __future__ import annotations

import json
import resource
import sys
import time

from glue_inventory.analysis.spark.eventlog import decompressed, events
from glue_inventory.analysis.spark.summary import WANTED, RunListener, summarize

CHUNK_BYTES = 1024 * 1024


def _rss_mb() -> float:
    """Peak resident memory of this process: VmHWM, which starts anew at exec (ru_maxrss can carry the
    parent's peak into a child on Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(path: str, codec: str) -> None:
    def chunks():
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK_BYTES):
                yield chunk

    baseline = _rss_mb()
    started = time.perf_counter()
    cpu = time.process_time()
    summary = summarize(RunListener().feed(events(decompressed(chunks(), None if codec == "none" else codec),
                                                  WANTED)))
    print(json.dumps({"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu,
                      "baseline_rss_mb": baseline, "peak_rss_mb": _rss_mb(), "tasks": summary["tasks"],
                      "predictions": len(summary["predictions"])}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
