"""What an event log's summary says is wrong with a run, each finding with its stage and numbers:
`skewed-stage`, `spill-to-disk`, `idle-executors`, `driver-bound`, `small-files-write`; and the reasons a log
could not be used (`event-log-*`).

Savings are `measured` (the run's own tasks): a skewed stage costs the time its longest task runs past the
stage's median task, while the other slots wait (the share of the run's wall time it adds, times the job's
monthly cost). The others save nothing by themselves: idle executors are what right-sizing from the event log
removes (its saving is there), spill and small files cost time that only a change of code or worker type
reclaims, by an amount no log tells in advance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glue_inventory.analysis.findings import Finding, finding

SOURCE = "event_log"
# Our policy, after Sparklens and DataFlint's defaults: a stage whose longest task runs 5 × its median, and past
# it by a minute or a tenth of the run, is skewed; spill to disk of 100 MiB or more is worth a look; utilisation
# under 50 % means the executors mostly wait; a run that spends half its time with no Spark job running is
# driver-bound; 100 output files or more averaging under 32 MiB are small files (Parquet's sweet spot is 128 MiB
# to 1 GiB).
SKEW_RATIO = 5.0
SKEW_MIN_MS = 60_000
SKEW_MIN_SHARE = 0.1
SKEW_MIN_TASKS = 4
SPILL_MIN_BYTES = 100 * 1024 * 1024
LOW_UTILISATION = 0.5
DRIVER_BOUND_SHARE = 0.5
SMALL_FILES_MIN = 100
SMALL_FILE_BYTES = 32 * 1024 * 1024
MAX_STAGE_FINDINGS = 3
MiB = 1024 * 1024


def minutes(ms: float) -> str:
    return f"{ms / 60_000:.1f} min" if ms >= 60_000 else f"{ms / 1000:.0f} s"


def mib(size: float) -> str:
    if size >= 1024 * MiB:
        return f"{size / MiB / 1024:.1f} GiB"
    return f"{size / MiB:.0f} MiB" if size >= MiB or not size else f"{size / 1024:.0f} KiB"


def _lost(stage: Mapping[str, Any]) -> float:
    """What the stage's longest task adds to it: its time past the median task's."""
    return stage["max_task_ms"] - stage["median_task_ms"]


def _skewed(summary: Mapping[str, Any], monthly_cost: float) -> list[Finding]:
    wall = summary.get("wall_ms") or 0
    skewed = [s for s in summary.get("stages") or [] if s.get("skew") and s["skew"] >= SKEW_RATIO
              and s["tasks"] >= SKEW_MIN_TASKS and _lost(s) >= min(SKEW_MIN_MS, SKEW_MIN_SHARE * wall)]
    found = []
    for stage in sorted(skewed, key=lambda s: -_lost(s))[:MAX_STAGE_FINDINGS]:
        lost = _lost(stage)
        share = min(lost / wall, 1.0) if wall else 0.0
        saving = round(monthly_cost * share, 2)
        found.append(finding(
            "skewed-stage", "high" if share >= 0.2 else "medium", None,
            f"stage {stage['stage_id']} ({stage['name']}) waits {minutes(stage['max_task_ms'])} on one task of "
            f"{stage['tasks']} whose median is {minutes(stage['median_task_ms'])} (skew {stage['skew']:g}×): its "
            f"key is skewed — salt the join or aggregation key (or enable spark.sql.adaptive.skewJoin) to save about "
            f"{minutes(lost)} of each run ({share:.0%})", SOURCE,
            stage_id=stage["stage_id"], skew=stage["skew"], max_task_ms=stage["max_task_ms"],
            median_task_ms=stage["median_task_ms"], tasks=stage["tasks"], lost_ms=lost, lost_share=round(share, 4),
            est_monthly_savings_usd=saving, savings_basis="measured" if saving else None))
    return found


def _spill(summary: Mapping[str, Any]) -> list[Finding]:
    spilled = [s for s in summary.get("stages") or [] if s.get("disk_spill_bytes", 0) >= SPILL_MIN_BYTES]
    return [finding(
        "spill-to-disk", "medium", None,
        f"stage {s['stage_id']} ({s['name']}) spilled {mib(s['disk_spill_bytes'])} to disk "
        f"({mib(s['memory_spill_bytes'])} in memory) over {s['tasks']} tasks: its partitions do not fit in "
        "executor memory — raise spark.sql.shuffle.partitions, or use a worker type with more memory per core "
        "(G.2X, R.*)", SOURCE, stage_id=s["stage_id"], disk_spill_bytes=s["disk_spill_bytes"],
        memory_spill_bytes=s["memory_spill_bytes"])
        for s in sorted(spilled, key=lambda s: -s["disk_spill_bytes"])[:MAX_STAGE_FINDINGS]]


def _idle(summary: Mapping[str, Any]) -> list[Finding]:
    utilisation, idle = summary.get("utilisation"), summary.get("idle_executors") or []
    executors = summary.get("executors") or 0
    if utilisation is None or (utilisation >= LOW_UTILISATION and not idle):
        return []
    return [finding(
        "idle-executors", "medium", None,
        f"executors were busy {utilisation:.0%} of their core-time ({executors} executors × "
        f"{summary.get('cores_per_executor')} cores); {len(idle)} of them ran under 10 % of the time: the job has "
        "more workers than its tasks use — see the right-sizing from the event log", SOURCE,
        utilisation=utilisation, idle_executors=len(idle), executors=executors)]


def _driver_bound(summary: Mapping[str, Any]) -> list[Finding]:
    share = summary.get("driver_share")
    if share is None or share < DRIVER_BOUND_SHARE:
        return []
    return [finding(
        "driver-bound", "medium", None,
        f"{share:.0%} of the run ({minutes(summary['driver_ms'])} of {minutes(summary['wall_ms'])}) had no Spark "
        "job running: the driver works alone while every executor waits — move driver-side work (collect, "
        "pandas, boto3 loops, sleeps) into Spark, or run that part as a Python shell job", SOURCE,
        driver_ms=summary["driver_ms"], wall_ms=summary["wall_ms"], driver_share=share)]


def _small_files(summary: Mapping[str, Any]) -> list[Finding]:
    output = summary.get("output") or {}
    files, average = output.get("files_at_least") or 0, output.get("avg_file_bytes_at_most")
    if files < SMALL_FILES_MIN or average is None or average >= SMALL_FILE_BYTES:
        return []
    return [finding(
        "small-files-write", "low", None,
        f"the run wrote at least {files} files averaging at most {mib(average)} ({mib(output.get('bytes') or 0)} "
        "in all): readers pay per file — coalesce or repartition before the write, or set "
        "spark.sql.files.maxRecordsPerFile", SOURCE, files_at_least=files, avg_file_bytes_at_most=average)]


def run_findings(summary: Mapping[str, Any], monthly_cost: float) -> list[Finding]:
    """The findings of one run's summary; `monthly_cost` prices the measured savings."""
    return (_skewed(summary, monthly_cost) + _spill(summary) + _idle(summary) + _driver_bound(summary)
            + _small_files(summary))


def unusable(rule_id: str, message: str, **extra: Any) -> Finding:
    """A log that is missing, unreadable or truncated: a finding with the reason, never a failure."""
    return finding(rule_id, "info" if rule_id == "event-log-missing" else "low", None, message, SOURCE, **extra)
