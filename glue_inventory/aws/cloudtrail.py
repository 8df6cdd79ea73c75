"""CloudTrail event history: the tag calls of a Region, newest first, for `apply_remediation`'s approval check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

# LookupEvents sees the last 90 days of management events, at most 50 per page, one lookup attribute per
# call (AWS CloudTrail API reference, LookupEvents).
EVENT_HISTORY_DAYS = 90
PAGE_SIZE = 50


def events_named(cloudtrail, event_name: str, now: datetime) -> Iterator[dict[str, Any]]:
    """Every event called `event_name` of the last 90 days in the client's Region, newest first (LookupEvents
    order), each as its parsed `CloudTrailEvent` record; pages are fetched as the caller reads on."""
    token = None
    while True:
        kwargs: dict[str, Any] = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": event_name}],
                                  "StartTime": now - timedelta(days=EVENT_HISTORY_DAYS), "EndTime": now,
                                  "MaxResults": PAGE_SIZE}
        if token:
            kwargs["NextToken"] = token
        page = cloudtrail.lookup_events(**kwargs)
        for event in page.get("Events", []):
            if event.get("CloudTrailEvent"):
                yield json.loads(event["CloudTrailEvent"])
        token = page.get("NextToken")
        if not token:
            return
