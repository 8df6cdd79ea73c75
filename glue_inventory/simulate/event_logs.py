"""Spark event logs of the simulated Spark jobs' runs, written from a known `AppProfile`.

A profile says what the run was (executors and cores, the stages with their task counts and durations, one
skewed stage, spill, output files, driver-only time before, between and after the jobs); `event_lines` plays
it into Spark's listener events, scheduling every task into the slot that frees first, so a test knows each
figure the analysis must find. `encode` writes the lines the way Spark does for each codec (its lz4 and snappy
framings included), single or rolled.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import json
import random
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import cramjam
import zstandard

from glue_inventory.simulate.catalog import WINDOW_DAYS, WORKER_DPU
from glue_inventory.simulate.fleet import Fleet, SimJob
from glue_inventory.simulate.runs import SimJobRun

EVENT_LOG_PREFIX = "sparkHistoryLogs/"
RUNS_WITH_EVENT_LOGS = 3
# Glue's Spark executors: 4 vCPUs per DPU of the worker type (AWS Glue developer guide, "Worker types").
CORES_PER_DPU = 4
# The share of a task's time spent running (the rest: deserialization, result serialization).
RUN_SHARE = 0.95
# lz4-java's LZ4BlockOutputStream block size as Spark sets it (spark.io.compression.lz4.blockSize, 32 KiB) and
# snappy-java's SnappyOutputStream default block (32 KiB).
LZ4_BLOCK = SNAPPY_BLOCK = 32 * 1024
# Spark's rolling event log writer starts a new file at spark.eventLog.rolling.maxFileSize (128 MiB by default);
# the simulator rolls far sooner so its small logs still come in several files.
ROLL_LINES = 100


@dataclass(frozen=True)
class SimStage:
    """One stage: `tasks` tasks of about `task_ms` each (±10 %); the first task `skew` times longer."""

    stage_id: int
    job_id: int
    tasks: int
    task_ms: int
    parents: tuple[int, ...] = ()
    skew: float = 1.0
    memory_spill_bytes: int = 0  # per task
    disk_spill_bytes: int = 0  # per task
    output_bytes: int = 0  # per task: each writing task writes one file
    shuffle_write_bytes: int = 0  # per task
    name: str = "stage"


@dataclass(frozen=True)
class AppProfile:
    """What one application run was: the figures the analysis of its log must find."""

    executors: int
    cores: int
    stages: tuple[SimStage, ...]
    head_ms: int = 20_000  # driver-only before the first job
    gap_ms: int = 2_000  # driver-only between jobs
    tail_ms: int = 30_000  # driver-only after the last job (the idle tail)
    seed: int = 0
    padding: int = 0  # bytes of accumulables added to each task end (benchmarks: a realistic line size)
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def slots(self) -> int:
        return self.executors * self.cores

    @property
    def job_ids(self) -> list[int]:
        return sorted({stage.job_id for stage in self.stages})


def _event(name: str, **fields: Any) -> bytes:
    return json.dumps({"Event": name, **fields}, separators=(",", ":")).encode()


def task_durations(profile: AppProfile, stage: SimStage) -> list[int]:
    """The task durations of a stage (ms, launch order), the same for the same profile."""
    rng = random.Random(profile.seed * 1000 + stage.stage_id)
    durations = [round(stage.task_ms * rng.uniform(0.9, 1.1)) for _ in range(stage.tasks)]
    if durations and stage.skew != 1.0:
        durations[0] = round(stage.task_ms * stage.skew)
    return durations


def _task_end(stage: SimStage, task_id: int, index: int, executor: int, launch: int, finish: int,
              padding: str) -> bytes:
    duration = finish - launch
    metrics = {
        "Executor Deserialize Time": duration - round(duration * RUN_SHARE), "Executor Run Time":
        round(duration * RUN_SHARE), "Result Size": 2048, "JVM GC Time": duration // 50,
        "Memory Bytes Spilled": stage.memory_spill_bytes, "Disk Bytes Spilled": stage.disk_spill_bytes,
        "Shuffle Read Metrics": {"Remote Bytes Read": 0, "Local Bytes Read": 0, "Fetch Wait Time": 0},
        "Shuffle Write Metrics": {"Shuffle Bytes Written": stage.shuffle_write_bytes, "Shuffle Write Time": 0},
        "Input Metrics": {"Bytes Read": 64 * 1024 * 1024, "Records Read": 100_000},
        "Output Metrics": {"Bytes Written": stage.output_bytes, "Records Written": 1000 if stage.output_bytes else 0},
    }
    info = {"Task ID": task_id, "Index": index, "Attempt": 0, "Launch Time": launch, "Executor ID": str(executor),
            "Host": f"172.35.{executor // 250}.{executor % 250}", "Locality": "PROCESS_LOCAL", "Speculative": False,
            "Getting Result Time": 0, "Finish Time": finish, "Failed": False, "Killed": False,
            "Accumulables": [{"ID": 1, "Name": "padding", "Value": padding}] if padding else []}
    return _event("SparkListenerTaskEnd", **{"Stage ID": stage.stage_id, "Stage Attempt ID": 0,
                                             "Task Type": "ResultTask", "Task End Reason": {"Reason": "Success"},
                                             "Task Info": info, "Task Metrics": metrics})


def event_lines(profile: AppProfile, start_ms: int, app_id: str) -> Iterator[bytes]:
    """The application's events in the order Spark writes them."""
    padding = "x" * profile.padding
    yield _event("SparkListenerLogStart", **{"Spark Version": "3.3.0-amzn-1"})
    yield _event("SparkListenerEnvironmentUpdate", **{"JVM Information": {}, "Spark Properties": {
        "spark.executor.cores": str(profile.cores), "spark.app.id": app_id, **profile.properties},
        "System Properties": {}, "Classpath Entries": {}})
    yield _event("SparkListenerApplicationStart", **{"App Name": "nativespark-glue", "App ID": app_id,
                                                     "Timestamp": start_ms, "User": "spark"})
    up = start_ms + profile.head_ms // 2
    for executor in range(1, profile.executors + 1):
        yield _event("SparkListenerExecutorAdded", **{"Timestamp": up, "Executor ID": str(executor), "Executor Info": {
            "Host": f"172.35.{executor // 250}.{executor % 250}", "Total Cores": profile.cores}})
    now = start_ms + profile.head_ms
    task_id = 0
    slots = [(now, executor) for executor in range(1, profile.executors + 1) for _ in range(profile.cores)]
    for number, job_id in enumerate(profile.job_ids):
        stages = [stage for stage in profile.stages if stage.job_id == job_id]
        infos = [{"Stage ID": s.stage_id, "Stage Attempt ID": 0, "Stage Name": s.name, "Number of Tasks": s.tasks,
                  "Parent IDs": list(s.parents)} for s in stages]
        if number:
            now += profile.gap_ms
        job_start = now
        yield _event("SparkListenerJobStart", **{"Job ID": job_id, "Submission Time": job_start,
                                                 "Stage Infos": infos, "Stage IDs": [s.stage_id for s in stages]})
        slots = [(max(free, job_start), executor) for free, executor in slots]
        heapq.heapify(slots)
        finished: dict[int, int] = {}
        for stage in sorted(stages, key=lambda s: s.stage_id):
            ready = max((finished[p] for p in stage.parents if p in finished), default=job_start)
            info = {"Stage ID": stage.stage_id, "Stage Attempt ID": 0, "Stage Name": stage.name,
                    "Number of Tasks": stage.tasks, "Parent IDs": list(stage.parents), "Submission Time": ready}
            yield _event("SparkListenerStageSubmitted", **{"Stage Info": info})
            end = ready
            for index, duration in enumerate(task_durations(profile, stage)):
                free, executor = heapq.heappop(slots)
                launch = max(free, ready)
                heapq.heappush(slots, (launch + duration, executor))
                end = max(end, launch + duration)
                yield _task_end(stage, task_id, index, executor, launch, launch + duration, padding)
                task_id += 1
            finished[stage.stage_id] = end
            yield _event("SparkListenerStageCompleted", **{"Stage Info": info | {"Completion Time": end}})
        now = max(finished.values(), default=job_start)
        yield _event("SparkListenerJobEnd", **{"Job ID": job_id, "Completion Time": now,
                                               "Job Result": {"Result": "JobSucceeded"}})
    end = now + profile.tail_ms
    for executor in range(1, profile.executors + 1):
        yield _event("SparkListenerExecutorRemoved", **{"Timestamp": end, "Executor ID": str(executor),
                                                        "Removed Reason": "Application stopped"})
    yield _event("SparkListenerApplicationEnd", Timestamp=end)


def _lz4(data: bytes) -> bytes:
    out = bytearray()
    for start in range(0, len(data), LZ4_BLOCK):
        block = data[start:start + LZ4_BLOCK]
        compressed = bytes(cramjam.lz4.compress_block(block, store_size=False))
        # The checksum field (xxhash32 of the block) is left 0: lz4-java's reader checks it, ours does not.
        out += b"LZ4Block" + bytes([0x20]) + struct.pack("<iii", len(compressed), len(block), 0) + compressed
    out += b"LZ4Block" + bytes([0x10]) + struct.pack("<iii", 0, 0, 0)
    return bytes(out)


def _snappy(data: bytes) -> bytes:
    out = bytearray(b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1))
    for start in range(0, len(data), SNAPPY_BLOCK):
        compressed = bytes(cramjam.snappy.compress_raw(data[start:start + SNAPPY_BLOCK]))
        out += struct.pack(">i", len(compressed)) + compressed
    return bytes(out)


def encode(lines: Sequence[bytes], codec: str | None) -> bytes:
    """The lines as one event log file compressed the way Spark does with `codec` (None: plain text)."""
    data = b"".join(line + b"\n" for line in lines)
    if codec is None:
        return data
    if codec == "lz4":
        return _lz4(data)
    if codec == "snappy":
        return _snappy(data)
    if codec == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    if codec == "gzip":
        return gzip.compress(data, mtime=0)
    raise ValueError(f"unknown codec {codec!r}")


def suffix(codec: str | None) -> str:
    return {"lz4": ".lz4", "snappy": ".snappy", "zstd": ".zstd", "gzip": ".gz", None: ""}[codec]


def log_objects(lines: Sequence[bytes], app_id: str, codec: str | None, rolled: bool) -> dict[str, bytes]:
    """Key (under the event log path) → content: one `<app id>[.codec]` file, or Spark's rolled folder
    `eventlog_v2_<app id>/` with `events_<n>_<app id>[.codec]` files and the `appstatus_<app id>` marker."""
    if not rolled:
        return {app_id + suffix(codec): encode(lines, codec)}
    folder = f"eventlog_v2_{app_id}/"
    files = {f"{folder}events_{n // ROLL_LINES + 1}_{app_id}{suffix(codec)}": encode(lines[n:n + ROLL_LINES], codec)
             for n in range(0, len(lines), ROLL_LINES)}
    return {f"{folder}appstatus_{app_id}": b""} | files


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def job_app_profile(job: SimJob, execution_s: int, seed: int) -> AppProfile:
    """A run's application from its job's profile: an over-provisioned job has few tasks for its slots, a
    starved one many; every job has one skewed join, spill in it, many small output files and an idle tail."""
    cfg = job.config
    executors = max((cfg.number_of_workers or 2) - 1, 1)
    cores = max(round(CORES_PER_DPU * WORKER_DPU.get(cfg.worker_type or "G.1X", 1)), 1)
    slots = executors * cores
    share = 0.15 if job.profile.over_provisioned else 4.0 if job.profile.starved else 1.5
    tasks = max(4, min(round(slots * share), 400))
    unit = 10_000
    stages = (
        SimStage(0, 0, tasks, unit, name="scan parquet"),
        SimStage(1, 0, tasks, unit // 2, parents=(0,), shuffle_write_bytes=8 << 20, name="exchange"),
        SimStage(2, 1, tasks, unit, name="scan orders"),
        SimStage(3, 1, tasks, unit, parents=(2,), skew=12.0, memory_spill_bytes=128 << 20,
                 disk_spill_bytes=32 << 20, name="sort merge join"),
        SimStage(4, 2, max(tasks, 120), unit // 4, parents=(), output_bytes=2 << 20, name="write parquet"),
    )
    profile = AppProfile(executors, cores, stages, seed=seed,
                         properties={"spark.glue.JOB_NAME": job.name})
    # Scale every span so the application lasts about as long as the Glue run (less start-up).
    wall = _wall_ms(profile)
    factor = max(execution_s * 1000 * 0.9 / wall, 0.01) if wall else 1.0
    scaled = tuple(SimStage(s.stage_id, s.job_id, s.tasks, max(round(s.task_ms * factor), 1), s.parents, s.skew,
                            s.memory_spill_bytes, s.disk_spill_bytes, s.output_bytes, s.shuffle_write_bytes, s.name)
                   for s in stages)
    return AppProfile(executors, cores, scaled, head_ms=round(profile.head_ms * factor),
                      gap_ms=round(profile.gap_ms * factor), tail_ms=round(profile.tail_ms * factor), seed=seed,
                      properties=profile.properties)


def _wall_ms(profile: AppProfile) -> int:
    end = 0
    for line in event_lines(profile, 0, "sizing"):
        if line.startswith(b'{"Event":"SparkListenerApplicationEnd"'):
            end = json.loads(line)["Timestamp"]
    return end


def run_app_profile(job: SimJob, run: SimJobRun) -> AppProfile:
    """The application one of the job's runs was: the profile its event log is written from."""
    seed = _stable(run.job_run_id)
    profile = job_app_profile(job, run.execution_time, seed)
    return replace(profile, properties=profile.properties | {"spark.glue.JOB_RUN_ID": run.job_run_id})


def job_event_logs(job: SimJob, now_s: float) -> dict[str, bytes]:
    """Key in the job's bucket → content: the event logs of its last few finished runs of the window."""
    path = job.default_arguments.get("--spark-event-logs-path")
    if not path:
        return {}
    prefix = path.split("/", 3)[3] if path.count("/") >= 3 else ""
    window_start = now_s - WINDOW_DAYS * 86400
    recent = sorted((run for run in job.runs if run.state != "RUNNING" and run.started >= window_start
                     and run.execution_time > 0), key=lambda run: run.started)[-RUNS_WITH_EVENT_LOGS:]
    codecs = ("lz4", "snappy", "zstd", None, "gzip")
    objects: dict[str, bytes] = {}
    for number, run in enumerate(recent):
        start_ms = int(run.started * 1000) + 5_000
        app_id = f"spark-application-{start_ms}"
        profile = run_app_profile(job, run)
        codec = codecs[(_stable(job.name) + number) % len(codecs)]
        lines = list(event_lines(profile, start_ms, app_id))
        for key, content in log_objects(lines, app_id, codec, rolled=number % 2 == 1).items():
            objects[prefix + key] = content
    return objects


def fleet_event_logs(fleet: Fleet) -> Iterator[tuple[SimJob, str, bytes]]:
    """(job, key, content) of every event log the fleet's Spark jobs wrote."""
    for job in fleet.jobs:
        for key, content in job_event_logs(job, fleet.now.timestamp()).items():
            yield job, key, content
