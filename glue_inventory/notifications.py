"""Notifications: a summary when the inventory refresh succeeds, the failed step when any run fails.

Messages go to an SNS topic and/or a Slack-compatible webhook (`{"text": ...}`), with secrets
redacted. A delivery that keeps failing is logged and dropped: a notification never fails a run.
"""

import json
import logging
import os
from dataclasses import dataclass

import boto3
import dagster as dg
import sqlalchemy as sa
import urllib3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError
from dagster_shared.error import SerializableErrorInfo

from glue_inventory.analysis.secrets import redact_text
from glue_inventory.automation import AUTOMATION_INTERVAL_S, CANDIDATES, SENSOR_STATUS
from glue_inventory.config import Settings
from glue_inventory.resources import GlueInventoryConfig, InventoryDatabase
from glue_inventory.storage.tables import data_jobs, deep_analysis_candidates

WEBHOOK_ENV = "GLUE_INVENTORY_WEBHOOK_URL"
ATTEMPTS = 3
TIMEOUT_S = 10.0
# SNS: "Subject" is at most 100 characters (SNS Publish API reference).
SUBJECT_CHARS = 100
ERROR_CHARS = 500
NEW_LISTED = 5


@dataclass(frozen=True)
class Delivery:
    """The outcome of one notification to one target."""

    channel: str
    delivered: bool
    detail: str


def webhook_url(settings: Settings) -> str | None:
    """`GLUE_INVENTORY_WEBHOOK_URL`, else `notifications.webhook_url` from the config file."""
    return os.environ.get(WEBHOOK_ENV) or settings.notifications.webhook_url


def publish_sns(topic_arn: str, subject: str, text: str) -> Delivery:
    """Publish with botocore's standard retries (throttling, 5xx and connection errors, backoff with jitter)."""
    # arn:aws:sns:<region>:<account>:<topic>: the topic's region, not AWS_REGION, is where it is published.
    region = topic_arn.split(":")[3] if topic_arn.count(":") >= 5 else None
    config = Config(retries={"mode": "standard", "total_max_attempts": ATTEMPTS}, connect_timeout=TIMEOUT_S,
                    read_timeout=TIMEOUT_S)
    try:
        boto3.client("sns", region_name=region, config=config).publish(
            TopicArn=topic_arn, Subject=subject, Message=text)
    except (ClientError, BotoCoreError, ResponseParserError) as exc:
        return Delivery("sns", False, redact_text(f"{type(exc).__name__}: {exc}"))
    return Delivery("sns", True, "published")


def post_webhook(url: str, text: str, backoff_s: float = 1.0) -> Delivery:
    """POST `{"text": text}`, retrying 429, 5xx and connection errors with exponential backoff."""
    retries = urllib3.Retry(total=ATTEMPTS - 1, backoff_factor=backoff_s, status_forcelist=(429, 500, 502, 503, 504),
                            allowed_methods=None, raise_on_status=False)
    # The URL of a Slack webhook is its credential: only the host is ever logged.
    parsed = urllib3.util.parse_url(url)
    host = parsed.host or "webhook"
    try:
        response = urllib3.PoolManager(retries=retries, timeout=TIMEOUT_S).request(
            "POST", url, body=json.dumps({"text": text}).encode(), headers={"Content-Type": "application/json"})
    except urllib3.exceptions.HTTPError as exc:
        cause = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason else exc
        detail = f"{type(cause).__name__}: {cause}".replace(url, host)
        if parsed.request_uri not in ("", "/"):
            detail = detail.replace(parsed.request_uri, "/…")
        return Delivery(f"webhook {host}", False, redact_text(detail))
    attempts = len(response.retries.history) + 1 if response.retries else 1
    return Delivery(f"webhook {host}", response.status < 300, f"HTTP {response.status} after {attempts} attempt(s)")


def notify(settings: Settings, subject: str, text: str, log: logging.Logger) -> list[Delivery]:
    """Send to every configured target and log each outcome; returns what happened."""
    # SNS subjects are ASCII without line breaks (SNS Publish API reference).
    subject = redact_text(subject).encode("ascii", "replace").decode()[:SUBJECT_CHARS]
    text = redact_text(text)
    deliveries = []
    if settings.notifications.sns_topic_arn:
        deliveries.append(publish_sns(settings.notifications.sns_topic_arn, subject, text))
    if url := webhook_url(settings):
        deliveries.append(post_webhook(url, text))
    for delivery in deliveries:
        message = f"notification to {delivery.channel}: {delivery.detail}"
        if delivery.delivered:
            log.info(message)
        else:
            log.warning(f"{message} — not delivered")
    return deliveries


def _previous_list(conn: sa.Connection, run_id: str, first_id: int | None) -> set[int]:
    """Jobs of the candidate list written before `run_id`'s (rows are inserted in list order)."""
    table = deep_analysis_candidates
    before = sa.select(sa.func.max(table.c.id)).where(table.c.dagster_run_id != run_id)
    if first_id is not None:
        before = before.where(table.c.id < first_id)
    previous_run = conn.execute(sa.select(table.c.dagster_run_id).where(table.c.id == before.scalar_subquery())
                                ).scalar()
    if previous_run is None:
        return set()
    return set(conn.execute(sa.select(table.c.data_job_id).where(table.c.dagster_run_id == previous_run)).scalars())


def refresh_summary(conn: sa.Connection, run_id: str) -> tuple[str, str]:
    """Subject and text for the candidate list written by `run_id`: spend, new candidates, savings."""
    live = sa.or_(data_jobs.c.status.is_(None), data_jobs.c.status != "deleted")
    jobs, spend = conn.execute(sa.select(sa.func.count(), sa.func.sum(
        data_jobs.c.metrics["monthly_projection_usd"].as_float())).where(live)).one()
    table = deep_analysis_candidates
    rows = conn.execute(sa.select(table.c.id, table.c.data_job_id, table.c.estimated_monthly_savings_usd,
                                  data_jobs.c.partition_key).join(data_jobs, data_jobs.c.id == table.c.data_job_id)
                        .where(table.c.dagster_run_id == run_id).order_by(table.c.score.desc())).all()
    previous = _previous_list(conn, run_id, min((row.id for row in rows), default=None))
    new = [row.partition_key for row in rows if row.data_job_id not in previous]
    savings = sum(row.estimated_monthly_savings_usd or 0.0 for row in rows)
    text = (f"glue_inventory: inventory refreshed (run {run_id[:8]})\n"
            f"{jobs} live Glue jobs, estimated spend ${spend or 0.0:,.2f}/month\n"
            f"{len(rows)} candidates for deep analysis ({len(new)} new), "
            f"estimated savings ${savings:,.2f}/month")
    if new:
        more = f" and {len(new) - NEW_LISTED} more" if len(new) > NEW_LISTED else ""
        text += "\nNew: " + ", ".join(new[:NEW_LISTED]) + more
    return f"glue_inventory: {len(rows)} candidates, ${savings:,.0f}/month savings", text


def _innermost(error: SerializableErrorInfo) -> SerializableErrorInfo:
    """The user's exception under Dagster's wrappers (DagsterExecutionStepExecutionError and the like)."""
    while error.cause is not None:
        error = error.cause
    return error


def failure_summary(context: dg.RunFailureSensorContext) -> tuple[str, str]:
    """Subject and text for a failed run: what it ran, and each failed step with its error."""
    run = context.dagster_run
    assets = sorted(key.to_user_string() for key in run.asset_selection or ())
    partitions = run.tags.get("dagster/partition") or " … ".join(
        filter(None, (run.tags.get("dagster/asset_partition_range_start"),
                      run.tags.get("dagster/asset_partition_range_end"))))
    lines = [f"glue_inventory: run {run.run_id[:8]} of {run.job_name} failed"
             + (f" (assets {', '.join(assets[:5])})" if assets else "")
             + (f", partitions {partitions}" if partitions else "")]
    steps = context.get_step_failure_events()
    for event in steps[:3]:
        error = _innermost(event.step_failure_data.error) if event.step_failure_data.error else None
        message = error.message.strip() if error else "no error recorded"
        lines.append(f"step {event.step_key}: {message[:ERROR_CHARS]}")
    if not steps:
        lines.append((context.failure_event.message or "the run failed before any step started")[:ERROR_CHARS])
    failed = ", ".join(event.step_key or "?" for event in steps[:3]) or run.job_name
    return f"glue_inventory: run failed ({failed})", "\n".join(lines)


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, name="inventory_refresh_notification_sensor",
                      minimum_interval_seconds=AUTOMATION_INTERVAL_S, default_status=SENSOR_STATUS)
def inventory_refresh_notification_sensor(context: dg.RunStatusSensorContext, config: GlueInventoryConfig,
                                          inventory_db: InventoryDatabase):
    """Sends the refresh summary when a run that wrote the candidate list succeeds."""
    settings = config.settings
    if not (settings.notifications.sns_topic_arn or webhook_url(settings)):
        return dg.SkipReason("no notification target configured")
    latest = context.instance.get_latest_materialization_event(CANDIDATES)
    if latest is None or latest.run_id != context.dagster_run.run_id:
        return dg.SkipReason("the run did not write the current candidate list")
    with inventory_db.engine().connect() as conn:
        subject, text = refresh_summary(conn, context.dagster_run.run_id)
    notify(settings, subject, text, context.log)
    return None


@dg.run_failure_sensor(name="run_failure_notification_sensor", minimum_interval_seconds=AUTOMATION_INTERVAL_S,
                       default_status=SENSOR_STATUS)
def run_failure_notification_sensor(context: dg.RunFailureSensorContext, config: GlueInventoryConfig):
    """Sends the failed step and its error (secrets redacted) when any run of this code location fails."""
    settings = config.settings
    if not (settings.notifications.sns_topic_arn or webhook_url(settings)):
        return dg.SkipReason("no notification target configured")
    subject, text = failure_summary(context)
    notify(settings, subject, text, context.log)
    return None


notification_sensors = [inventory_refresh_notification_sensor, run_failure_notification_sensor]
