"""The wall time of a run on another number of executors: its tasks replayed into that many slots.

Each Spark job's stages are replayed in the order of their DAG (a stage starts when its parents in the job have
finished), each task, in its launch order, into the slot that frees first; jobs follow one another and the time
with no job running (driver-only work) stays as it was. This is the model of Sparklens' simulation: it keeps
every task's measured duration and assumes a task takes as long on any executor.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Multiples of the executors a run had: the executor counts a prediction is made for (12 of them).
EXECUTOR_FRACTIONS = (0.1, 0.15, 0.2, 0.25, 0.33, 0.5, 0.67, 0.75, 1.0, 1.25, 1.5, 2.0)


@dataclass(frozen=True)
class StageTasks:
    """A stage's task durations (ms, launch order) and the stages it waits for."""

    stage_id: int
    parents: tuple[int, ...]
    durations: Sequence[int]


def _in_dag_order(stages: Sequence[StageTasks]) -> list[StageTasks]:
    """Parents before children (stages whose parents are not in the job start at once); ties by stage id."""
    by_id = {stage.stage_id: stage for stage in stages}
    done: set[int] = set()
    ordered: list[StageTasks] = []

    def visit(stage: StageTasks, path: frozenset[int]) -> None:
        if stage.stage_id in done or stage.stage_id in path:
            return
        for parent in sorted(stage.parents):
            if parent in by_id:
                visit(by_id[parent], path | {stage.stage_id})
        done.add(stage.stage_id)
        ordered.append(stage)

    for stage in sorted(stages, key=lambda s: s.stage_id):
        visit(stage, frozenset())
    return ordered


def replay_job(stages: Sequence[StageTasks], slots: int) -> float:
    """Milliseconds one job's stages take in `slots` task slots."""
    if slots < 1:
        raise ValueError(f"slots must be at least 1, got {slots}")
    free = [0.0] * min(slots, max(1, sum(len(stage.durations) for stage in stages)))
    finished: dict[int, float] = {}
    for stage in _in_dag_order(stages):
        ready = max((finished[p] for p in stage.parents if p in finished), default=0.0)
        end = ready
        for duration in stage.durations:
            start = max(heapq.heappop(free), ready)
            heapq.heappush(free, start + duration)
            end = max(end, start + duration)
        finished[stage.stage_id] = end
    return max(finished.values(), default=0.0)


def predicted_wall_ms(driver_ms: float, jobs: Iterable[Sequence[StageTasks]], slots: int) -> float:
    """The run's wall time in `slots` slots: driver-only time plus each job's replay."""
    return driver_ms + sum(replay_job(stages, slots) for stages in jobs)


def executor_counts(executors: int) -> list[int]:
    """The executor counts predicted for a run that had `executors` (always including it, never below 1)."""
    return sorted({max(1, round(executors * fraction)) for fraction in EXECUTOR_FRACTIONS} | {max(executors, 1)})


def predictions(driver_ms: float, jobs: Sequence[Sequence[StageTasks]], executors: int,
                cores: int) -> list[dict[str, float]]:
    """[{executors, slots, predicted_ms}] for each of `executor_counts(executors)` at `cores` per executor."""
    return [{"executors": count, "slots": count * cores,
             "predicted_ms": round(predicted_wall_ms(driver_ms, jobs, count * cores), 1)}
            for count in executor_counts(executors)]


def fewest_executors(predicted: Sequence[Mapping[str, float]], current: int,
                     max_slowdown: float) -> Mapping[str, float] | None:
    """The prediction of the fewest executors whose time is at most `max_slowdown` longer than the current
    count's (None without a prediction at the current count)."""
    baseline = next((p for p in predicted if p["executors"] == current), None)
    if baseline is None:
        return None
    limit = baseline["predicted_ms"] * (1 + max_slowdown)
    fitting = [p for p in predicted if p["predicted_ms"] <= limit + 1e-6]
    return min(fitting, key=lambda p: p["executors"])
