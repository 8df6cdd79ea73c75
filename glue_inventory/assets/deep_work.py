"""The work behind the deep-analysis assets, per job: CloudWatch, the script, code analysis, LLM review."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from botocore.exceptions import BotoCoreError, ClientError

from glue_inventory.analysis.rightsizing import recommend_capacity
from glue_inventory.analysis.script import inspect_script
from glue_inventory.aws.cloudwatch import fetch_run_metrics, whole_window_period
from glue_inventory.aws.glue import describe_error, error_code
from glue_inventory.config import Settings
from glue_inventory.storage.tables import job_runs

SPARK_TYPES = frozenset({"glueetl", "gluestreaming"})


def recent_runs(conn: sa.Connection, data_job_id: int, now: datetime, window_days: int,
                limit: int) -> list[tuple[str, datetime, datetime]]:
    """The job's latest finished runs of the window, newest first: (run id, started, completed)."""
    query = (sa.select(job_runs.c.run_id, job_runs.c.started_on, job_runs.c.completed_on)
             .where(job_runs.c.data_job_id == data_job_id,
                    job_runs.c.started_on >= now - timedelta(days=window_days),
                    job_runs.c.completed_on.is_not(None))
             .order_by(job_runs.c.started_on.desc()).limit(limit))
    return [tuple(row) for row in conn.execute(query)]


def cloudwatch_result(cloudwatch, job, record: dict, runs: list[tuple[str, datetime, datetime]],
                      settings: Settings, now: datetime) -> dict:
    """Metrics of the runs and the right-sizing they imply; the query spans only the runs' own window,
    which keeps GetMetricData's datapoint count (and cost) small."""
    run_ids = [run_id for run_id, _, _ in runs]
    metrics = record.get("metrics") or {}
    arguments = dict.fromkeys(record.get("default_argument_names") or [], "true")
    metrics_by_run: dict[str, Any] = {}
    error = None
    if run_ids and job.job_type in SPARK_TYPES:
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


def split_s3_url(url: str) -> tuple[str, str]:
    if not url.startswith("s3://") or "/" not in url[5:]:
        raise ValueError(f"ScriptLocation {url!r} is not an s3://bucket/key URL")
    bucket, _, key = url[5:].partition("/")
    return bucket, key


def _finding(rule_id: str, severity: str, message: str) -> dict:
    return {"rule_id": rule_id, "severity": severity, "line": None, "message": message, "source": "script"}


def script_result(s3, location: str | None, max_bytes: int, job_language: str | None) -> dict:
    """The script's sha256 and redacted text; a missing or unreadable object is a finding, not a crash."""
    if not location:
        return {"location": None, "kind": "missing", "findings": [_finding("script-missing", "medium",
                                                                          "the job has no ScriptLocation")]}
    try:
        bucket, key = split_s3_url(location)
        # One byte past the limit tells "too large" without downloading a huge object.
        response = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max_bytes}")
        data = response["Body"].read()
    except ValueError as exc:
        return {"location": location, "kind": "missing", "findings": [_finding("script-missing", "medium", str(exc))]}
    except ClientError as exc:
        code = error_code(exc)
        rule = "script-access-denied" if code in {"AccessDenied", "403"} else "script-missing"
        return {"location": location, "kind": "missing",
                "findings": [_finding(rule, "medium", f"cannot read {location}: {describe_error(exc)}")]}
    except BotoCoreError as exc:
        return {"location": location, "kind": "missing",
                "findings": [_finding("script-unreadable", "medium", f"cannot read {location}: {exc}")]}
    info = inspect_script(data, location=location, max_bytes=max_bytes, job_language=job_language)
    return {"location": location, "sha256": info.sha256, "size_bytes": info.size_bytes, "kind": info.kind,
            "encoding": info.encoding, "text": info.text, "findings": list(info.findings)}


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)
