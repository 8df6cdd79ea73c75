"""The Spark event-log part of a job report: the latest run's utilisation, critical path, predicted times on
other worker counts, its heaviest stages and the findings, shaped for `job_report_event_logs.md.j2`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glue_inventory.analysis.cost.rightsizing import workers_for
from glue_inventory.analysis.spark.findings import mib, minutes

# Stages shown per report, the heaviest (by task time) first; the rest stay in the database.
MAX_STAGES = 10


def _duration(ms: float | None) -> str:
    return minutes(ms) if ms is not None else "—"


def _figures(latest: Mapping[str, Any]) -> list[tuple[str, str]]:
    wall = latest.get("wall_ms") or 0
    utilisation = latest.get("utilisation")
    share = latest.get("driver_share")
    return [
        ("Wall time", _duration(wall)),
        ("Executors × cores", f"{latest.get('executors')} × {latest.get('cores_per_executor')}"),
        ("Executor utilisation", f"{utilisation:.0%}" if utilisation is not None else "—"),
        ("Idle executors (busy < 10 %)", str(len(latest.get("idle_executors") or []))),
        ("Driver-only time", _duration(latest.get("driver_ms")) + (f" ({share:.0%})" if share is not None else "")),
        ("Critical path", _duration(latest.get("critical_path_ms"))),
        ("Time with perfect parallelism", _duration(latest.get("perfect_parallelism_ms"))),
        ("Spark jobs / stages / tasks",
         f"{latest.get('jobs')} / {latest.get('stages_with_tasks')} / {latest.get('tasks')}"),
    ]


def _predictions(latest: Mapping[str, Any], worker_type: str | None) -> list[dict[str, str]]:
    current = latest.get("executors")
    base = next((p["predicted_ms"] for p in latest.get("predictions") or [] if p["executors"] == current), None)
    rows = []
    for p in latest.get("predictions") or []:
        workers = workers_for(worker_type, p["executors"]) if worker_type else None
        change = f"{p['predicted_ms'] / base - 1:+.0%}" if base else "—"
        rows.append({"executors": str(p["executors"]), "workers": str(workers or "—"),
                     "predicted": _duration(p["predicted_ms"]), "change": change,
                     "current": "yes" if p["executors"] == current else ""})
    return rows


def _stages(latest: Mapping[str, Any]) -> list[dict[str, str]]:
    stages = sorted(latest.get("stages") or [], key=lambda s: -s.get("task_ms", 0))[:MAX_STAGES]
    return [{"stage": str(s["stage_id"]), "name": s.get("name") or "", "tasks": str(s["tasks"]),
             "median": _duration(s.get("median_task_ms")), "max": _duration(s.get("max_task_ms")),
             "skew": f"{s['skew']:g}×" if s.get("skew") else "—", "spill": mib(s.get("disk_spill_bytes") or 0),
             "shuffle": f"{mib(s.get('shuffle_read_bytes') or 0)} / {mib(s.get('shuffle_write_bytes') or 0)}"}
            for s in stages]


def _read(run: Mapping[str, Any]) -> str:
    read = run.get("read") or {}
    notes = [f"{read.get('files', 1)} file{'s' if read.get('files', 1) != 1 else ''}"
             + (" (rolled)" if read.get("rolled") else ""), f"codec {read.get('codec') or 'none'}",
             f"{mib(read.get('bytes_read') or 0)} read"]
    if read.get("cut_at_bytes"):
        notes.append(f"cut at {mib(read['cut_at_bytes'])} (deep_analysis.event_log_max_bytes)")
    if read.get("truncated"):
        notes.append(f"truncated: {read['truncated']}")
    if read.get("error"):
        notes.append(f"unreadable: {read['error']}")
    if run.get("source") == "cache":
        notes.append("from the cache (same ETag)")
    return ", ".join(notes)


def event_log_context(logs: Mapping[str, Any] | None, worker_type: str | None) -> dict[str, Any] | None:
    """The template's view of a job's event-log evidence (None: event logs were not looked at)."""
    if not logs:
        return None
    latest = logs.get("latest")
    return {
        "status": logs.get("status"), "path": logs.get("path"),
        "latest_run_id": logs.get("latest_run_id"),
        "figures": _figures(latest) if latest else [],
        "predictions": _predictions(latest, worker_type) if latest else [],
        "stages": _stages(latest) if latest else [],
        "findings": [{"rule_id": f["rule_id"], "severity": f.get("severity") or "info", "message": f["message"]}
                     for f in logs.get("findings") or []],
        "runs": [{"run_id": r["run_id"], "location": r["location"], "read": _read(r)} for r in logs.get("runs") or []],
    }
