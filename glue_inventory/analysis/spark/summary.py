"""What one run's event log says, as Sparklens defines it: utilisation, idle executors, driver-only time, the
critical path, per-stage skew, spill and shuffle, output files, and the predicted wall time on other executor
counts (replay.py).

`RunListener` collects the spans of the events it is given (one pass, constant memory per task: a duration per
stage); `summarize` turns them into a JSON-able summary, the thing that is cached and reported.
"""

from __future__ import annotations

import statistics
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from glue_inventory.analysis.code.secrets import redact_arguments, redact_text
from glue_inventory.analysis.spark.replay import StageTasks, predictions

# Bump when the summary's shape or arithmetic changes: cached summaries of another version are parsed again.
SUMMARY_VERSION = 1
WANTED = frozenset({
    "SparkListenerApplicationStart", "SparkListenerApplicationEnd", "SparkListenerEnvironmentUpdate",
    "SparkListenerExecutorAdded", "SparkListenerExecutorRemoved", "SparkListenerJobStart", "SparkListenerJobEnd",
    "SparkListenerStageSubmitted", "SparkListenerStageCompleted", "SparkListenerTaskEnd",
})
# An executor busy less than this share of its core-time did next to nothing: it is idle.
IDLE_SHARE = 0.1
# Stages kept in a summary, the longest first: a run with thousands of stages stays a small row.
MAX_STAGES = 100
# Spark properties kept (values redacted): what ties the log to a Glue run and sizes its executors.
KEPT_PROPERTIES = ("spark.glue.JOB_NAME", "spark.glue.JOB_RUN_ID", "spark.executor.cores", "spark.executor.memory",
                   "spark.dynamicAllocation.enabled", "spark.sql.shuffle.partitions")


@dataclass
class _Stage:
    stage_id: int
    name: str = ""
    parents: tuple[int, ...] = ()
    job_id: int | None = None
    submitted: int | None = None
    completed: int | None = None
    durations: array = field(default_factory=lambda: array("q"))
    run_ms: int = 0
    failed_tasks: int = 0
    memory_spill: int = 0
    disk_spill: int = 0
    shuffle_read: int = 0
    shuffle_write: int = 0
    output_bytes: int = 0
    output_records: int = 0
    writing_tasks: int = 0


@dataclass
class _Executor:
    added: int
    cores: int
    removed: int | None = None
    run_ms: int = 0
    tasks: int = 0


@dataclass
class RunListener:
    """The spans of one application, collected from its events in any order Spark wrote them."""

    app_id: str | None = None
    app_name: str | None = None
    started: int | None = None
    ended: int | None = None
    last_seen: int = 0
    properties: dict[str, str] = field(default_factory=dict)
    executors: dict[str, _Executor] = field(default_factory=dict)
    jobs: dict[int, list[int | None]] = field(default_factory=dict)  # job id → [start, end]
    stages: dict[int, _Stage] = field(default_factory=dict)
    tasks: int = 0

    def stage(self, stage_id: int) -> _Stage:
        if stage_id not in self.stages:
            self.stages[stage_id] = _Stage(stage_id)
        return self.stages[stage_id]

    def _seen(self, *times: Any) -> None:
        for time in times:
            if isinstance(time, int) and time > self.last_seen:
                self.last_seen = time

    def on(self, event: Mapping[str, Any]) -> None:
        handler = getattr(self, "_" + str(event.get("Event", "")).removeprefix("SparkListener"), None)
        if handler is not None:
            handler(event)

    def _ApplicationStart(self, event: Mapping[str, Any]) -> None:  # noqa: N802 (named after the event)
        self.app_id, self.app_name, self.started = event.get("App ID"), event.get("App Name"), event.get("Timestamp")
        self._seen(self.started)

    def _ApplicationEnd(self, event: Mapping[str, Any]) -> None:  # noqa: N802
        self.ended = event.get("Timestamp")
        self._seen(self.ended)

    def _EnvironmentUpdate(self, event: Mapping[str, Any]) -> None:  # noqa: N802
        spark = event.get("Spark Properties") or {}
        pairs = spark.items() if isinstance(spark, Mapping) else (tuple(p) for p in spark if len(p) == 2)
        kept = {str(k): str(v) for k, v in pairs if k in KEPT_PROPERTIES}
        self.properties.update(redact_arguments(kept))

    def _ExecutorAdded(self, event: Mapping[str, Any]) -> None:  # noqa: N802
        info = event.get("Executor Info") or {}
        self.executors[str(event.get("Executor ID"))] = _Executor(int(event.get("Timestamp") or 0),
                                                                   int(info.get("Total Cores") or 1))
        self._seen(event.get("Timestamp"))

    def _ExecutorRemoved(self, event: Mapping[str, Any]) -> None:  # noqa: N802
        executor = self.executors.get(str(event.get("Executor ID")))
        if executor is not None:
            executor.removed = event.get("Timestamp")
        self._seen(event.get("Timestamp"))

    def _JobStart(self, event: Mapping[str, Any]) -> None:  # noqa: N802
        job_id = int(event["Job ID"])
        self.jobs[job_id] = [event.get("Submission Time"), None]
        for info in event.get("Stage Infos") or []:
            stage = self.stage(int(info["Stage ID"]))
            stage.job_id, stage.parents = job_id, tuple(int(p) for p in info.get("Parent IDs") or ())
            stage.name = stage.name or str(info.get("Stage Name") or "")
        self._seen(event.get("Submission Time"))

    def _JobEnd(self, event: Mapping[str, Any]) -> None:  # noqa: N802
        span = self.jobs.setdefault(int(event["Job ID"]), [None, None])
        span[1] = event.get("Completion Time")
        self._seen(span[1])

    def _stage_info(self, event: Mapping[str, Any]) -> _Stage:
        info = event.get("Stage Info") or {}
        stage = self.stage(int(info["Stage ID"]))
        stage.name = str(info.get("Stage Name") or stage.name)
        stage.parents = tuple(int(p) for p in info.get("Parent IDs") or stage.parents)
        return stage

    def _StageSubmitted(self, event: Mapping[str, Any]) -> None:  # noqa: N802
        stage = self._stage_info(event)
        submitted = (event.get("Stage Info") or {}).get("Submission Time")
        if submitted is not None and (stage.submitted is None or submitted < stage.submitted):
            stage.submitted = submitted
        self._seen(submitted)

    def _StageCompleted(self, event: Mapping[str, Any]) -> None:  # noqa: N802
        stage = self._stage_info(event)
        info = event.get("Stage Info") or {}
        stage.submitted = stage.submitted if stage.submitted is not None else info.get("Submission Time")
        stage.completed = info.get("Completion Time")
        self._seen(stage.completed)

    def _TaskEnd(self, event: Mapping[str, Any]) -> None:  # noqa: N802
        info = event.get("Task Info") or {}
        launch, finish = info.get("Launch Time"), info.get("Finish Time")
        if not isinstance(launch, int) or not isinstance(finish, int):
            return
        metrics = event.get("Task Metrics") or {}
        stage = self.stage(int(event["Stage ID"]))
        run_ms = int(metrics.get("Executor Run Time") or 0)
        stage.durations.append(max(finish - launch, 0))
        stage.run_ms += run_ms
        stage.failed_tasks += bool(info.get("Failed") or info.get("Killed"))
        stage.memory_spill += int(metrics.get("Memory Bytes Spilled") or 0)
        stage.disk_spill += int(metrics.get("Disk Bytes Spilled") or 0)
        read = metrics.get("Shuffle Read Metrics") or {}
        stage.shuffle_read += int(read.get("Remote Bytes Read") or 0) + int(read.get("Local Bytes Read") or 0)
        stage.shuffle_write += int((metrics.get("Shuffle Write Metrics") or {}).get("Shuffle Bytes Written") or 0)
        output = metrics.get("Output Metrics") or {}
        written = int(output.get("Bytes Written") or 0)
        stage.output_bytes += written
        stage.output_records += int(output.get("Records Written") or 0)
        stage.writing_tasks += written > 0
        executor = self.executors.get(str(info.get("Executor ID")))
        if executor is not None:
            executor.run_ms += run_ms
            executor.tasks += 1
        self.tasks += 1
        self._seen(finish)

    def feed(self, events: Iterable[Mapping[str, Any]]) -> RunListener:
        for event in events:
            self.on(event)
        return self


def _union_ms(spans: Iterable[tuple[int, int]]) -> int:
    total, reach = 0, None
    for start, end in sorted(spans):
        if reach is None or start > reach:
            total, reach = total + end - start, end
        elif end > reach:
            total, reach = total + end - reach, end
    return total


def _longest_path(stages: list[_Stage]) -> int:
    """The longest chain of stages through the DAG, each weighing its longest task (ms)."""
    by_id = {stage.stage_id: stage for stage in stages}
    memo: dict[int, int] = {}

    def length(stage: _Stage, path: frozenset[int]) -> int:
        if stage.stage_id not in memo:
            parents = [by_id[p] for p in stage.parents if p in by_id and p not in path]
            longest = max(stage.durations, default=0)
            memo[stage.stage_id] = longest + max((length(p, path | {stage.stage_id}) for p in parents), default=0)
        return memo[stage.stage_id]

    return max((length(stage, frozenset()) for stage in stages), default=0)


def _stage_row(stage: _Stage) -> dict[str, Any]:
    durations = sorted(stage.durations)
    median = statistics.median(durations) if durations else 0
    longest = durations[-1] if durations else 0
    return {
        # A stage is named after its call site, which may quote the script: redacted like the script.
        "stage_id": stage.stage_id, "job_id": stage.job_id, "name": redact_text(stage.name[:120]),
        "tasks": len(durations),
        "failed_tasks": stage.failed_tasks,
        "duration_ms": (stage.completed - stage.submitted) if stage.completed and stage.submitted else None,
        "task_ms": sum(durations), "median_task_ms": median, "max_task_ms": longest,
        "skew": round(longest / median, 2) if median else None,
        "memory_spill_bytes": stage.memory_spill, "disk_spill_bytes": stage.disk_spill,
        "shuffle_read_bytes": stage.shuffle_read, "shuffle_write_bytes": stage.shuffle_write,
        "output_bytes": stage.output_bytes, "output_records": stage.output_records,
        "writing_tasks": stage.writing_tasks,
    }


def _jobs_of(listener: RunListener) -> list[list[StageTasks]]:
    by_job: dict[int | None, list[StageTasks]] = {}
    for stage in listener.stages.values():
        if stage.durations:
            by_job.setdefault(stage.job_id, []).append(StageTasks(stage.stage_id, stage.parents, stage.durations))
    return [by_job[job] for job in sorted(by_job, key=lambda j: (j is None, j or 0))]


def summarize(listener: RunListener) -> dict[str, Any]:
    """The run's figures (JSON-able); `complete` is False when the log has no application end."""
    started = listener.started if listener.started is not None else min(
        (e.added for e in listener.executors.values()), default=0)
    ended = listener.ended if listener.ended is not None else listener.last_seen
    wall = max(ended - started, 0)
    core_ms = run_ms = 0
    idle = []
    for executor_id, executor in sorted(listener.executors.items()):
        life = max((executor.removed or ended) - executor.added, 0) * executor.cores
        core_ms, run_ms = core_ms + life, run_ms + executor.run_ms
        if life and executor.run_ms / life < IDLE_SHARE:
            idle.append(executor_id)
    job_spans = [(s, e if e is not None else ended) for s, e in listener.jobs.values() if s is not None]
    job_ms = _union_ms(job_spans)
    driver_ms = max(wall - job_ms, 0)
    stages = [s for s in listener.stages.values() if s.durations]
    by_job: dict[int | None, list[_Stage]] = {}
    for stage in stages:
        by_job.setdefault(stage.job_id, []).append(stage)
    executors = len(listener.executors)
    cores = max((e.cores for e in listener.executors.values()), default=1)
    slots = sum(e.cores for e in listener.executors.values())
    task_ms = sum(sum(s.durations) for s in stages)
    rows = sorted((_stage_row(s) for s in stages), key=lambda r: -r["task_ms"])[:MAX_STAGES]
    writing = sum(s.writing_tasks for s in stages)
    output = sum(s.output_bytes for s in stages)
    return {
        "summary_version": SUMMARY_VERSION,
        "app_id": listener.app_id, "app_name": listener.app_name,
        "glue_run_id": listener.properties.get("spark.glue.JOB_RUN_ID"),
        "properties": dict(sorted(listener.properties.items())),
        "complete": listener.ended is not None,
        "started_ms": started, "ended_ms": ended, "wall_ms": wall,
        "executors": executors, "cores_per_executor": cores, "slots": slots,
        "tasks": listener.tasks, "jobs": len(listener.jobs), "stages_with_tasks": len(stages),
        "executor_core_ms": core_ms, "task_run_ms": run_ms,
        "utilisation": round(run_ms / core_ms, 4) if core_ms else None,
        "idle_executors": idle,
        "job_ms": job_ms, "driver_ms": driver_ms,
        "driver_share": round(driver_ms / wall, 4) if wall else None,
        "critical_path_ms": driver_ms + sum(_longest_path(job) for job in by_job.values()),
        "perfect_parallelism_ms": round(driver_ms + (task_ms / slots if slots else 0), 1),
        "stages": sorted(rows, key=lambda r: r["stage_id"]),
        "output": {"bytes": output, "records": sum(s.output_records for s in stages), "files_at_least": writing,
                   "avg_file_bytes_at_most": round(output / writing) if writing else None},
        "predictions": predictions(driver_ms, _jobs_of(listener), executors, cores) if executors else [],
    }
