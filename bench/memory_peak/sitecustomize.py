"""What held the memory at a process's peak: tracemalloc's top allocation sites, for `bench/scale.py --tracemalloc`.

Python imports `sitecustomize` at start-up from sys.path; the bench puts this directory on the commands'
PYTHONPATH, so every Python process of a command (the `dagster` CLI, any step process) loads it. With
GLUE_INVENTORY_BENCH_TRACEMALLOC_DIR set, it traces allocations (one frame per trace), samples the traced size
every 0.5 s, and whenever it has grown more than 5 % past the last snapshot (and above 20 MB) takes a snapshot
and keeps its top entries; at exit it writes `<dir>/<pid>.json`. Without the variable it does nothing. It never
raises into the host program.

A snapshot is reduced to its top entries at once: a snapshot holds a Python tuple per traced block, about as
much memory as the program itself. The snapshots' own allocations are kept out of the peak reported
(the peak is read before each snapshot and reset after it).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
import sysconfig
import threading
import tracemalloc

DIR = os.environ.get("GLUE_INVENTORY_BENCH_TRACEMALLOC_DIR")
EVERY_S = 0.5
GROWTH = 1.05
MIN_BYTES = 20 * 2**20
TOP_LINES, TOP_PACKAGES = 15, 12
STDLIB = sysconfig.get_paths()["stdlib"] + "/"


def _mb(size: int) -> float:
    return round(size / 2**20, 2)


def _where(path: str) -> tuple[str, str]:
    """(shortened file, top-level package) of a traced file, as bench/imports.py groups them."""
    if "site-packages/" in path:
        short = path.split("site-packages/")[-1]
        return short, short.split("/")[0].removesuffix(".py")
    if "/glue_inventory/" in path:
        return "glue_inventory/" + path.split("/glue_inventory/", 1)[1], "glue_inventory"
    return path.replace(STDLIB, "<stdlib>/", 1), "<stdlib>"


class Peak:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.lock = threading.Lock()  # new after a fork: the parent's sampler may have held it
        self.peak = 0  # the program's peak, without the snapshots' own allocations
        self.snapshot_bytes = 0
        self.own_bytes = 0  # tracemalloc's own memory at the snapshot: in the RSS, not in the traced size
        self.top: list[dict] = []
        self.packages: list[dict] = []
        tracemalloc.reset_peak()  # a forked child's peak is its own
        self.done = threading.Event()
        threading.Thread(target=self._sample, name="tracemalloc-peak", daemon=True).start()

    def _sample(self) -> None:
        while not self.done.wait(EVERY_S):
            _safely(self.check)

    def check(self) -> None:
        with self.lock:
            current, peak = tracemalloc.get_traced_memory()
            self.peak = max(self.peak, peak)
            if current <= max(MIN_BYTES, self.snapshot_bytes * GROWTH):
                return
            snapshot = tracemalloc.take_snapshot()
            lines = snapshot.statistics("lineno")
            del snapshot
            self.snapshot_bytes = sum(stat.size for stat in lines)
            self.top = [{"file": _where(stat.traceback[0].filename)[0], "line": stat.traceback[0].lineno,
                         "mb": _mb(stat.size), "count": stat.count} for stat in lines[:TOP_LINES]]
            # Summing the lines of each package gives what statistics("filename") grouped by package would.
            packages: dict[str, list[int]] = {}
            for stat in lines:
                totals = packages.setdefault(_where(stat.traceback[0].filename)[1], [0, 0])
                totals[0] += stat.size
                totals[1] += stat.count
            del lines
            self.own_bytes = tracemalloc.get_tracemalloc_memory()
            self.packages = [{"package": name, "mb": _mb(size), "count": count} for name, (size, count)
                             in sorted(packages.items(), key=lambda item: -item[1][0])[:TOP_PACKAGES]]
            tracemalloc.reset_peak()  # the snapshot's tuples are freed: their high-water mark is not the program's

    def write(self) -> None:
        self.check()
        self.done.set()
        with self.lock:
            report = {"pid": os.getpid(), "argv": sys.argv, "peak_traced_mb": _mb(self.peak),
                      "snapshot_traced_mb": _mb(self.snapshot_bytes), "tracemalloc_own_mb": _mb(self.own_bytes),
                      "top_lines": self.top, "top_packages": self.packages}
        with open(os.path.join(DIR, f"{os.getpid()}.json"), "w", encoding="utf-8") as out:
            json.dump(report, out)


def _safely(action) -> None:
    try:
        action()
    except Exception as error:  # noqa: BLE001 - a measurement aid must never break the program it measures
        with contextlib.suppress(Exception):  # but a missing report should say why
            print(f"memory_peak/sitecustomize.py: {error!r}", file=sys.stderr)


def _start() -> None:
    tracemalloc.start(1)
    peak = Peak()
    atexit.register(_safely, peak.write)
    # A forked child has no sampler thread and its parent's findings: start afresh (its report is its own pid's).
    os.register_at_fork(after_in_child=lambda: _safely(peak.reset))


if DIR:
    _safely(_start)
