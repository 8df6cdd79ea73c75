"""Each deep-analysed Spark job's event-log evidence: the logs of its recent runs from S3 (or the cache by
ETag), their summaries, findings and the right-sizing their replays call for.

A job without logs, or whose logs cannot be listed, read or parsed whole, gets a finding that says why; no
job's trouble fails another's or the asset.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from glue_inventory.analysis.cost.dpu_estimate import job_execution_class
from glue_inventory.analysis.cost.savings import MEASURED, SKEWED_STAGE
from glue_inventory.analysis.findings import Finding
from glue_inventory.analysis.spark.eventlog import EventLogError, TruncatedLog, codec_of, decompressed, events
from glue_inventory.analysis.spark.findings import run_findings, unusable
from glue_inventory.analysis.spark.rightsizing import choose_rightsizing, event_log_rightsizing
from glue_inventory.analysis.spark.summary import SUMMARY_VERSION, WANTED, RunListener, summarize
from glue_inventory.analysis.types import SPARK_JOB_TYPES, JobSpec
from glue_inventory.aws.errors import describe_error
from glue_inventory.aws.event_logs import EventLogObjects, list_event_logs, object_chunks
from glue_inventory.aws.glue import get_job
from glue_inventory.aws.sessions import PlatformUnreachable, SessionMap
from glue_inventory.config import Settings
from glue_inventory.services.deep_inputs import in_parallel
from glue_inventory.storage.analyses import recent_runs
from glue_inventory.storage.event_logs import cached_summary, store_summary
from glue_inventory.storage.repository import Bind

PATH_ARGUMENT = "--spark-event-logs-path"
SPARK_UI_ARGUMENT = "--enable-spark-ui"
# The latest runs whose logs are read: enough to see a run that needs more than the others, few enough that a
# job's logs stay a few reads of at most event_log_max_bytes.
EVENT_LOG_RUNS = 3
# Glue starts the Spark application some seconds after the run's StartedOn; a log started more than this
# before the run, or after it completed, is another run's.
START_SLACK_MS = 60_000


def _outcome(status: str, findings: list[Finding], **extra: Any) -> dict[str, Any]:
    return {"status": status, "findings": findings, "runs": [], "rightsizing": None, "latest": None,
            "cache_hits": 0, **extra}


class _Counted:
    """Chunks passed through, their bytes counted."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks, self.bytes = chunks, 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.bytes += len(chunk)
            yield chunk


def parse_log(s3, log: EventLogObjects, max_bytes: int) -> dict[str, Any]:
    """The log's summary with `read`: bytes read, whether the bound cut it (`cut_at_bytes`) and, for a log
    that could not be read whole, the reason (`error`, `truncated`). Events before a cut or a break count."""
    listener, remaining, cut, read = RunListener(), max_bytes, False, 0
    error = truncated = None
    try:
        for obj in log.objects:
            if remaining <= 0:
                cut = True
                break
            limit = remaining if obj["size"] > remaining else None
            cut = cut or limit is not None
            counted = _Counted(object_chunks(s3, log.bucket, obj["key"], limit))
            try:
                listener.feed(events(decompressed(counted, codec_of(obj["key"])), WANTED))
            finally:
                read += counted.bytes
            remaining -= counted.bytes
    except TruncatedLog as exc:
        if not cut:
            truncated = str(exc)
    except EventLogError as exc:
        error = str(exc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # an event without the fields Spark writes
        error = f"a malformed event ({type(exc).__name__}: {exc})"
    summary = summarize(listener)
    summary["read"] = {"bytes_read": read, "size_bytes": log.size, "cut_at_bytes": max_bytes if cut else None,
                       "truncated": truncated, "error": error, "files": len(log.objects), "rolled": log.rolled,
                       "codec": _codecs(log)}
    return summary


def _codecs(log: EventLogObjects) -> str | None:
    try:
        return ",".join(sorted({codec_of(o["key"]) or "none" for o in log.objects}))
    except EventLogError:
        return "unsupported"


def _etag(log: EventLogObjects) -> str:
    return ",".join(o["etag"] for o in log.objects)


def _match(runs: list[tuple[str, datetime, datetime]], logs: list[EventLogObjects]) -> dict[str, EventLogObjects]:
    """Run id → the log whose application started within the run (the closest to its start)."""
    matched: dict[str, EventLogObjects] = {}
    for run_id, started, completed in runs:
        start_ms, end_ms = int(started.timestamp() * 1000), int(completed.timestamp() * 1000)
        inside = [log for log in logs if start_ms - START_SLACK_MS <= log.started_ms <= end_ms]
        if inside:
            matched[run_id] = min(inside, key=lambda log: abs(log.started_ms - start_ms))
    return matched


def _run_findings(run_id: str, summary: Mapping[str, Any]) -> list[Finding]:
    read = summary.get("read") or {}
    where = f"the event log of run {run_id} ({summary.get('location')})"
    if read.get("error"):
        return [unusable("event-log-unreadable", f"{where} cannot be read: {read['error']}", run_id=run_id)]
    if read.get("truncated"):
        return [unusable("event-log-truncated", f"{where} is truncated ({read['truncated']}): figures come from "
                         "the events before the break", run_id=run_id)]
    if read.get("cut_at_bytes"):
        return [unusable("event-log-cut", f"{where} is larger than deep_analysis.event_log_max_bytes "
                         f"({read['cut_at_bytes']:,} bytes): only its first bytes were read — raise the bound to "
                         "read it whole", run_id=run_id)]
    if not summary.get("complete"):
        return [unusable("event-log-incomplete", f"{where} has no application end (the run crashed or the log "
                         "was still being written): figures come from the events it has", run_id=run_id)]
    return []


def job_event_logs(s3, bind: Bind, path: str, runs: list[tuple[str, datetime, datetime]], spec: JobSpec,
                   monthly_cost: float, settings: Settings) -> dict[str, Any]:
    """One job's evidence from the logs of its `runs` under `path` (s3 is the job's account's client)."""
    if not runs:
        return _outcome("unavailable", [unusable("event-log-missing", "no finished run in the window to read "
                                                 "the event log of")], path=path)
    since = min(started for _, started, _ in runs) - timedelta(milliseconds=START_SLACK_MS)
    until = max(completed for _, _, completed in runs)
    try:
        logs = list_event_logs(s3, path, int(since.timestamp() * 1000), int(until.timestamp() * 1000))
    except ValueError as exc:
        return _outcome("unavailable", [unusable("event-log-unreadable", str(exc))], path=path)
    except ClientError as exc:
        return _outcome("unavailable", [unusable("event-log-unreadable", f"cannot list {path}: {describe_error(exc)}"
                                                 " — the role needs s3:ListBucket on the event-log prefix "
                                                 "(iam/README.md)")], path=path)
    except BotoCoreError as exc:
        return _outcome("unavailable", [unusable("event-log-unreadable", f"cannot list {path}: {exc}")], path=path)
    matched = _match(runs, logs)
    max_bytes = settings.deep_analysis.event_log_max_bytes
    results: list[dict[str, Any]] = []
    findings: list = []
    hits = 0
    for run_id, started, _ in runs:
        log = matched.get(run_id)
        if log is None:
            findings.append(unusable("event-log-missing", f"no event log under {path} for run {run_id} (started "
                                     f"{started.isoformat()})", run_id=run_id))
            continue
        summary = cached_summary(bind, log.location, _etag(log), SUMMARY_VERSION, max_bytes)
        source = "cache"
        if summary is None:
            source = "s3"
            try:
                summary = parse_log(s3, log, max_bytes) | {"location": log.location}
            except (ClientError, BotoCoreError) as exc:
                reason = describe_error(exc) if isinstance(exc, ClientError) else str(exc)
                findings.append(unusable("event-log-unreadable", f"cannot read {log.location}: {reason}",
                                         run_id=run_id))
                continue
            store_summary(bind, log.location, _etag(log), SUMMARY_VERSION, max_bytes, log.size, summary)
        hits += source == "cache"
        other = summary.get("glue_run_id")
        if other and other != run_id:  # Glue names its run in the log: trust it over the times
            findings.append(unusable("event-log-missing", f"the log started in run {run_id}'s time "
                                     f"({log.location}) is run {other}'s", run_id=run_id))
            continue
        findings += _run_findings(run_id, summary)
        results.append({"run_id": run_id, "app_id": log.app_id, "location": log.location, "source": source,
                        "summary": summary})
    usable = [r for r in results if r["summary"].get("tasks")]
    latest = usable[0]["summary"] if usable else None
    if latest is not None:
        findings += run_findings(latest, monthly_cost)
    # A replay of part of a run predicts part of a run: right-sizing reads whole logs only.
    whole = [r["summary"] for r in usable
             if r["summary"].get("complete") and not (r["summary"].get("read") or {}).get("cut_at_bytes")]
    sizing = event_log_rightsizing(spec, whole, monthly_cost=monthly_cost,
                                   max_slowdown=settings.deep_analysis.max_slowdown)
    return {"status": "ok" if usable else "unavailable", "path": path, "findings": findings, "rightsizing": sizing,
            "measured_savings": measured_savings(findings),
            "latest": latest, "latest_run_id": usable[0]["run_id"] if usable else None, "cache_hits": hits,
            "runs": [{k: v for k, v in r.items() if k != "summary"} | {"read": r["summary"].get("read"),
                                                                       "complete": r["summary"].get("complete")}
                     for r in results]}


def _monthly_cost(job: Mapping[str, Any], spec: JobSpec, settings: Settings) -> float:
    """The job's cost of the last 30 days, priced as the CloudWatch right-sizing prices it."""
    hours = float((job.get("metrics") or {}).get("dpu_hours_30d") or 0.0)
    return hours * settings.pricing.per_dpu_hour(job["region"], job_execution_class(spec))


def event_log_results(sessions: SessionMap, bind: Bind, jobs: Mapping[str, Mapping], specs: Mapping[str, JobSpec],
                      settings: Settings, now: datetime) -> dict[str, dict]:
    """Per Spark job: its event-log evidence, or the finding that says why there is none."""

    def work(key: str) -> dict:
        job, spec = jobs[key], specs[key]
        if spec.job_type not in SPARK_JOB_TYPES:
            return _outcome("not_applicable", [])
        names = set(job.get("default_argument_names") or [])
        if PATH_ARGUMENT not in names:
            return _outcome("not_enabled", [unusable(
                "event-log-missing", f"the job writes no Spark event log: set {SPARK_UI_ARGUMENT} true and "
                f"{PATH_ARGUMENT} s3://<bucket>/sparkHistoryLogs/ to measure utilisation, skew and spill")])
        try:
            session = sessions.session(job["account_id"], job["region"])
            path = str(get_job(session.glue, spec.name).get("DefaultArguments", {}).get(PATH_ARGUMENT) or "")
        except PlatformUnreachable as exc:
            return _outcome("unavailable", [unusable("event-log-unreadable", str(exc))])
        except ClientError as exc:
            return _outcome("unavailable", [unusable("event-log-unreadable", f"cannot read the job's "
                                                     f"{PATH_ARGUMENT}: {describe_error(exc)}")])
        except BotoCoreError as exc:
            return _outcome("unavailable", [unusable("event-log-unreadable", f"cannot read the job: {exc}")])
        runs = recent_runs(bind, job["data_job_id"], now, settings.thresholds.window_days, EVENT_LOG_RUNS)
        return job_event_logs(session.s3, bind, path, runs, spec, _monthly_cost(job, spec, settings), settings)

    return in_parallel(sorted(jobs), work, settings.max_workers)


# Findings that become recommendations (the idle executors are the event-log right-sizing's, already one).
RECOMMENDED = {"skewed-stage": "performance", "spill-to-disk": "performance", "driver-bound": "cost",
               "small-files-write": "performance"}


def event_log_recommendations(logs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The recommendations of a job's event-log findings, with their measured savings."""
    recs = []
    for found in logs.get("findings") or []:
        if found.get("rule_id") in RECOMMENDED:
            saving = float(found.get("est_monthly_savings_usd") or 0.0)
            recs.append({"title": found["message"], "category": RECOMMENDED[found["rule_id"]],
                         "severity": found.get("severity"), "est_monthly_savings_usd": saving,
                         "effort": "medium", "source": "event_log", "savings_basis": MEASURED if saving else None,
                         "rule_id": found["rule_id"], "stage_id": found.get("stage_id")})
    return recs


def with_event_log_evidence(cloudwatch: Mapping[str, Any], logs: Mapping[str, Any]) -> dict[str, Any]:
    """The CloudWatch result with the right-sizing to use in its place: the event log's when it has one (the
    choice and the comparison in its `choice`). Without event-log evidence (not looked for) it is unchanged."""
    if not logs:
        return dict(cloudwatch)
    sizing, choice = choose_rightsizing(logs.get("rightsizing"), cloudwatch.get("rightsizing"))
    chosen = dict(sizing) | {"choice": choice} if sizing else sizing
    return {**cloudwatch, "rightsizing": chosen}


def measured_savings(findings: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """The savings a deep analysis measured from the event log, by action (analysis.savings)."""
    skew = [float(f.get("est_monthly_savings_usd") or 0.0) for f in findings if f.get("rule_id") == "skewed-stage"]
    return {SKEWED_STAGE: max(skew)} if skew and max(skew) > 0 else {}
