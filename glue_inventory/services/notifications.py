"""Notifications: the refresh summary and the message for a failed run, sent to SNS and/or a webhook.

Messages go to an SNS topic and/or a Slack-compatible webhook (`{"text": ...}`), with secrets
redacted. A delivery that keeps failing is logged and dropped: a notification never fails a run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import urllib3
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from glue_inventory.analysis.code.secrets import redact_text
from glue_inventory.aws import sns
from glue_inventory.config import Settings
from glue_inventory.services.fleet import current_fleet_numbers
from glue_inventory.storage.candidates import list_of_run
from glue_inventory.storage.repository import Bind

ATTEMPTS = sns.ATTEMPTS
TIMEOUT_S = sns.TIMEOUT_S
# SNS: "Subject" is at most 100 characters (SNS Publish API reference).
SUBJECT_CHARS = 100
NEW_LISTED = 5


@dataclass(frozen=True)
class Delivery:
    """The outcome of one notification to one target."""

    channel: str
    delivered: bool
    detail: str


def webhook_url(settings: Settings) -> str | None:
    """`GLUE_INVENTORY_WEBHOOK_URL`, else `notifications.webhook_url` from the config file (load_settings applies
    the variable over the file)."""
    return settings.notifications.webhook_url


def configured(settings: Settings) -> bool:
    return bool(settings.notifications.sns_topic_arn or webhook_url(settings))


def publish_sns(topic_arn: str, subject: str, text: str) -> Delivery:
    try:
        sns.publish(topic_arn, subject, text)
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


def refresh_summary(bind: Bind, run_id: str) -> tuple[str, str]:
    """Subject and text for the candidate list written by `run_id`: the inventory's figures (analysis.fleet,
    as every report shows them) and the candidates new in this list."""
    fleet = current_fleet_numbers(bind)
    rows, previous = list_of_run(bind, run_id)
    new = [row.partition_key for row in rows if row.data_job_id not in previous]
    identified, potential = fleet.savings_identified_usd, fleet.savings_potential_usd
    text = (f"glue_inventory: inventory refreshed (run {run_id[:8]})\n"
            f"{fleet.live_jobs} live Glue jobs, estimated spend ${fleet.estimated_monthly_usd:,.2f}/month\n"
            f"{fleet.candidates} candidates for deep analysis ({len(new)} new), "
            f"savings identified ${identified:,.2f}/month (measured + exact); "
            f"potential ${potential:,.2f}/month (rule of thumb, not yet measured)")
    if new:
        more = f" and {len(new) - NEW_LISTED} more" if len(new) > NEW_LISTED else ""
        text += "\nNew: " + ", ".join(new[:NEW_LISTED]) + more
    return f"glue_inventory: {fleet.candidates} candidates, ${identified:,.0f}/month savings identified", text
