"""SNS: publish a notification (the one write outside the read-only policy, see iam/README.md)."""

from __future__ import annotations

import boto3
from botocore.config import Config

ATTEMPTS = 3
TIMEOUT_S = 10.0


def publish(topic_arn: str, subject: str, text: str) -> None:
    """Publish with botocore's standard retries (throttling, 5xx and connection errors, backoff with jitter)."""
    # arn:aws:sns:<region>:<account>:<topic>: the topic's region, not AWS_REGION, is where it is published.
    region = topic_arn.split(":")[3] if topic_arn.count(":") >= 5 else None
    config = Config(retries={"mode": "standard", "total_max_attempts": ATTEMPTS}, connect_timeout=TIMEOUT_S,
                    read_timeout=TIMEOUT_S)
    boto3.client("sns", region_name=region, config=config).publish(TopicArn=topic_arn, Subject=subject, Message=text)
