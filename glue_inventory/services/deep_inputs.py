"""What the deep analysis reads from AWS per job: CloudWatch metrics of recent runs and the script in S3.

Each job is looked up through one `SessionMap`: a job whose platform cannot be reached gets that error
as its result, and every other job completes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from glue_inventory.analysis.code.script import inspect_script
from glue_inventory.analysis.cost.rightsizing import recommend_capacity
from glue_inventory.analysis.types import SPARK_JOB_TYPES, JobSpec
from glue_inventory.aws.cloudwatch import fetch_run_metrics, whole_window_period
from glue_inventory.aws.errors import describe_error, error_code
from glue_inventory.aws.s3 import read_head
from glue_inventory.aws.sessions import PlatformUnreachable, SessionMap
from glue_inventory.config import Settings
from glue_inventory.storage.analyses import recent_runs
from glue_inventory.storage.repository import Bind

RecentRuns = list[tuple[str, datetime, datetime]]


def in_parallel(keys: list[str], work: Callable[[str], dict], workers: int) -> dict[str, dict]:
    """key → work(key), on up to `workers` threads."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return dict(zip(keys, pool.map(work, keys), strict=True))


def cloudwatch_result(cloudwatch, job: JobSpec, record: Mapping, runs: RecentRuns, settings: Settings,
                      now: datetime) -> dict:
    """Metrics of the runs and the right-sizing they imply."""
    run_ids = [run_id for run_id, _, _ in runs]
    metrics = record.get("metrics") or {}
    arguments = dict.fromkeys(record.get("default_argument_names") or [], "true")
    metrics_by_run: dict[str, Any] = {}
    error = None
    if run_ids and job.job_type in SPARK_JOB_TYPES:
        try:
            start = min(started for _, started, _ in runs) - timedelta(minutes=5)
            end = max(completed for _, _, completed in runs) + timedelta(minutes=5)
            # One period over the runs' whole window: the peaks are what right-sizing needs, and it
            # keeps the number of datapoints GetMetricData returns (and bills) small.
            metrics_by_run = fetch_run_metrics(cloudwatch, job.name, run_ids, start, end, now=now,
                                               period=whole_window_period(start, end, now))
        except ClientError as exc:
            error = describe_error(exc)
        except BotoCoreError as exc:
            error = f"{type(exc).__name__}: {exc}"
    rightsizing = recommend_capacity(
        job, metrics_by_run, region=record["region"], pricing=settings.pricing,
        monthly_dpu_hours=float(metrics.get("dpu_hours_30d") or 0.0),
        enable_metrics="--enable-metrics" in arguments)
    return {"run_ids": run_ids, "runs": metrics_by_run, "rightsizing": rightsizing, "error": error}


def cloudwatch_results(sessions: SessionMap, bind: Bind, jobs: Mapping[str, Mapping], specs: Mapping[str, JobSpec],
                       settings: Settings, now: datetime) -> dict[str, dict]:
    """Per job: CloudWatch metrics of its latest finished runs of the window and the right-sizing."""
    recent = {key: recent_runs(bind, job["data_job_id"], now, settings.thresholds.window_days,
                               settings.deep_analysis.max_runs) for key, job in jobs.items()}

    def work(key: str) -> dict:
        job = jobs[key]
        try:
            session = sessions.session(job["account_id"], job["region"])
        except PlatformUnreachable as exc:
            return {"run_ids": [], "runs": {}, "rightsizing": None, "error": str(exc)}
        return cloudwatch_result(session.cloudwatch, specs[key], job, recent[key], settings, now)

    return in_parallel(sorted(jobs), work, settings.max_workers)


def _finding(rule_id: str, severity: str, message: str) -> dict:
    return {"rule_id": rule_id, "severity": severity, "line": None, "message": message, "source": "script"}


def _unread(location: str | None, rule_id: str, message: str) -> dict:
    return {"location": location, "kind": "missing", "findings": [_finding(rule_id, "medium", message)]}


def script_result(s3, location: str | None, max_bytes: int, job_language: str | None) -> dict:
    """The script's sha256 and redacted text; a missing or unreadable object is a finding, not a crash."""
    if not location:
        return _unread(None, "script-missing", "the job has no ScriptLocation")
    try:
        data = read_head(s3, location, max_bytes)
    except ValueError as exc:
        return _unread(location, "script-missing", str(exc))
    except ClientError as exc:
        rule = "script-access-denied" if error_code(exc) in {"AccessDenied", "403"} else "script-missing"
        return _unread(location, rule, f"cannot read {location}: {describe_error(exc)}")
    except BotoCoreError as exc:
        return _unread(location, "script-unreadable", f"cannot read {location}: {exc}")
    info = inspect_script(data, location=location, max_bytes=max_bytes, job_language=job_language)
    return {"location": location, "sha256": info.sha256, "size_bytes": info.size_bytes, "kind": info.kind,
            "encoding": info.encoding, "text": info.text, "findings": list(info.findings)}


def script_results(sessions: SessionMap, jobs: Mapping[str, Mapping], settings: Settings) -> dict[str, dict]:
    """Per job: its script from S3 (sha256 and redacted text), or why it could not be read."""

    def work(key: str) -> dict:
        job = jobs[key]
        try:
            session = sessions.session(job["account_id"], job["region"])
        except PlatformUnreachable as exc:
            return _unread(job["script_location"], "script-unreadable", str(exc)) | {"error": str(exc)}
        language = "scala" if (job["script_location"] or "").endswith(".scala") else None
        return script_result(session.s3, job["script_location"], settings.deep_analysis.script_max_bytes, language)

    return in_parallel(sorted(jobs), work, settings.max_workers)


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
