"""Benchmark: reading Spark event logs — MB/s parsed and peak RSS on a generated log of `--size-mb`
(uncompressed, default 1,024), per codec, and the time of the replay's prediction for 2,000 tasks × 12 executor
counts.

    .venv/bin/python bench/event_logs.py [--size-mb 1024] [--codecs none lz4 zstd] [--keep DIR]

The log is one application of `--size-mb` MiB: the simulator's events (simulate/event_logs.py) around task ends
written from a template, each with ~900 bytes of accumulables so a line is about as long as a real Glue task end
(~1.5 KB). It goes to a local file in pieces of 8 MiB, each compressed on its own (Spark's lz4 and snappy
framings, zstd frames, gzip members: each reads as one log). Each file is then read by `event_log_parse.py` in a
process of its own, so its peak RSS is the reader's: 1 MiB chunks from the file → decompression → the JSON
lines wanted → the listener → the summary (with its predictions), the path `services/event_logs.parse_log` takes
over S3 bodies.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from common import log, machine, print_table, results_path, write_results

from glue_inventory.analysis.spark.replay import StageTasks, predictions
from glue_inventory.simulate.event_logs import AppProfile, SimStage, encode, event_lines, task_durations

PIECE_BYTES = 8 * 1024 * 1024
TARGET_RSS_MB = 300
LINE_PADDING = 900  # accumulables per task end: ~1.5 KB lines, as Glue 4.0's task ends are
EXECUTORS, CORES = 20, 4
TASK_MS = 8_000
HERE = Path(__file__).resolve().parent


def _profile(tasks: int) -> AppProfile:
    per_stage = max(tasks // 4, 1)
    return AppProfile(executors=EXECUTORS, cores=CORES, seed=1, padding=LINE_PADDING, stages=(
        SimStage(0, 0, per_stage, TASK_MS), SimStage(1, 0, per_stage, TASK_MS // 2, parents=(0,)),
        SimStage(2, 1, per_stage, TASK_MS, skew=10.0, disk_spill_bytes=1 << 20),
        SimStage(3, 2, per_stage, TASK_MS // 4, output_bytes=4 << 20)))


def _task_template() -> str:
    """A task end with %-fields for its stage, ids, executor and times (json.dumps per task is too slow for a
    gigabyte)."""
    stage = SimStage(0, 0, 1, 1, disk_spill_bytes=1 << 20, output_bytes=4 << 20)
    sample = next(line for line in event_lines(AppProfile(1, 1, (stage,), padding=LINE_PADDING), 0, "x")
                  if line.startswith(b'{"Event":"SparkListenerTaskEnd"'))
    event = json.loads(sample)
    event["Stage ID"], info = "@stage@", event["Task Info"]
    info.update({"Task ID": "@task@", "Index": "@index@", "Executor ID": "@executor@", "Launch Time": "@launch@",
                 "Finish Time": "@finish@"})
    event["Task Metrics"]["Executor Run Time"] = "@run@"
    text = json.dumps(event, separators=(",", ":")).replace("%", "%%")
    for name in ("stage", "task", "index", "launch", "finish", "run"):
        text = text.replace(f'"@{name}@"', f"%({name})d")
    return text.replace('"@executor@"', '"%(executor)d"')


def _lines(tasks: int) -> Iterator[bytes]:
    """The application's events: the simulator's for a small run, its task ends multiplied to `tasks` from the
    template, waves of EXECUTORS × CORES slots."""
    template, slots = _task_template(), EXECUTORS * CORES
    skeleton = event_lines(_profile(4), 1_700_000_000_000, "spark-application-1700000000000")
    task_id, clock = 0, 1_700_000_010_000
    for line in skeleton:
        if line.startswith(b'{"Event":"SparkListenerTaskEnd"'):
            continue
        if line.startswith(b'{"Event":"SparkListenerStageCompleted"'):
            stage = json.loads(line)["Stage Info"]["Stage ID"]
            for index in range(tasks // 4):
                launch = clock + (index // slots) * TASK_MS
                finish = launch + TASK_MS - 500 + (index * 37) % 1000
                yield (template % {"stage": stage, "task": task_id, "index": index, "launch": launch,
                                   "finish": finish, "run": (finish - launch) * 95 // 100,
                                   "executor": index % EXECUTORS + 1}).encode()
                task_id += 1
            clock += (tasks // 4 // slots + 1) * TASK_MS
        yield line


def write_log(path: Path, codec: str | None, size_mb: int) -> tuple[int, int]:
    """(compressed bytes, uncompressed bytes) of a log of about `size_mb` MiB written to `path`."""
    per_task = len(_task_template()) + 80
    tasks = int(size_mb * 1024 * 1024 / per_task)
    raw = written = 0
    with path.open("wb") as out:
        piece: list[bytes] = []
        size = 0
        for line in _lines(tasks):
            piece.append(line)
            size += len(line) + 1
            if size >= PIECE_BYTES:
                written += out.write(encode(piece, codec))
                raw, piece, size = raw + size, [], 0
        if piece:
            written += out.write(encode(piece, codec))
            raw += size
    return written, raw


def parse_in_child(path: Path, codec: str) -> dict:
    done = subprocess.run([sys.executable, str(HERE / "event_log_parse.py"), str(path), codec],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def prediction_seconds(tasks: int = 2000, repeats: int = 5) -> tuple[float, int]:
    """Median seconds of one prediction of `tasks` tasks on the 12 executor counts of a 20-executor run."""
    profile = _profile(tasks)
    jobs = [[StageTasks(s.stage_id, s.parents, task_durations(profile, s)) for s in profile.stages
             if s.job_id == job] for job in profile.job_ids]
    times, counts = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        counts = len(predictions(50_000, jobs, profile.executors, profile.cores))
        times.append(time.perf_counter() - started)
    return statistics.median(times), counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="uncompressed size of the log (default 1024)")
    parser.add_argument("--codecs", nargs="+", default=["none", "lz4", "zstd"],
                        choices=["none", "lz4", "snappy", "zstd", "gzip"])
    parser.add_argument("--keep", type=Path, help="write the logs here and keep them (default: a temp folder)")
    args = parser.parse_args()
    rows, results = [], {"machine": machine(), "size_mb": args.size_mb, "codecs": {}}
    with tempfile.TemporaryDirectory() as temp:
        folder = args.keep or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        for name in args.codecs:
            codec = None if name == "none" else name
            path = folder / f"spark-application-1700000000000.{name}"
            log(f"writing a {args.size_mb} MiB log ({name})")
            compressed, raw = write_log(path, codec, args.size_mb)
            log(f"parsing {path.name} ({compressed / 2**20:.0f} MiB on disk)")
            parsed = parse_in_child(path, name)
            figures = {"file_mb": round(compressed / 2**20, 1), "log_mb": round(raw / 2**20, 1),
                       "seconds": round(parsed["seconds"], 1),
                       "mb_per_s": round(raw / 2**20 / parsed["seconds"], 1),
                       "file_mb_per_s": round(compressed / 2**20 / parsed["seconds"], 1),
                       "cpu_seconds": round(parsed["cpu_seconds"], 1),
                       "baseline_rss_mb": round(parsed["baseline_rss_mb"]),
                       "peak_rss_mb": round(parsed["peak_rss_mb"]), "tasks": parsed["tasks"]}
            results["codecs"][name] = figures
            rows.append([name, figures["file_mb"], figures["log_mb"], figures["seconds"], figures["cpu_seconds"],
                         figures["mb_per_s"], figures["baseline_rss_mb"], figures["peak_rss_mb"], figures["tasks"]])
            if not args.keep:
                path.unlink()
    seconds, counts = prediction_seconds()
    results["prediction"] = {"tasks": 2000, "executor_counts": counts, "seconds": round(seconds, 4)}
    print_table("Spark event log parsing",
                ["codec", "file MiB", "log MiB", "parse s", "CPU s", "log MiB/s", "RSS at start MiB", "peak RSS MiB",
                 "tasks"], rows)
    print(f"\nprediction: 2,000 tasks × {counts} executor counts in {seconds * 1000:.1f} ms "
          f"(median of 5); peak RSS target < {TARGET_RSS_MB} MiB")
    path = results_path("event_logs")
    write_results(path, results)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
