"""The approval check of `apply_remediation`: for each approved job, the newest CloudTrail event that set its
approval tag, and whether it proves an approval by one of `remediation.approvers` (fail closed)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from glue_inventory.analysis.actions.approvals import (
    TAG_EVENTS,
    Approval,
    TagEvent,
    judge,
    newest_approval_event,
    tag_event,
)
from glue_inventory.aws.cloudtrail import EVENT_HISTORY_DAYS, events_named
from glue_inventory.aws.errors import AWS_ERRORS, describe_any


class _CachedStream:
    """A newest-first event stream read lazily once: every job of the Region scans the same pages."""

    def __init__(self, source: Iterator[dict]) -> None:
        self.source = source
        self.seen: list[TagEvent] = []
        self.error: Exception | None = None

    def __iter__(self) -> Iterator[TagEvent]:
        yield from self.seen
        if self.error is not None:  # the source died with it: every later job is refused the same way
            raise self.error
        try:
            for record in self.source:
                event = tag_event(record)
                if event is not None:
                    self.seen.append(event)
                    yield event
        except AWS_ERRORS as exc:
            self.error = exc
            raise


class RegionApprovals:
    """Approvals of one account's Region, from its CloudTrail (`cloudtrail:LookupEvents`)."""

    def __init__(self, cloudtrail, approvers: Sequence[str], now: datetime) -> None:
        self.approvers = list(approvers)
        self.streams = [_CachedStream(events_named(cloudtrail, name, now)) for _, name in TAG_EVENTS]

    def approval(self, job_arn: str, plan_id: str, not_before: datetime) -> Approval | str:
        """The proven approval of `plan_id` on the job, or the one-line reason there is none."""
        if not self.approvers:
            return judge(None, plan_id, self.approvers, not_before, EVENT_HISTORY_DAYS)
        try:
            found = [event for stream in self.streams if (event := newest_approval_event(stream, job_arn))]
        except AWS_ERRORS as exc:
            return (f"CloudTrail cannot be read ({describe_any(exc)}), so the approval cannot be checked: grant "
                    "cloudtrail:LookupEvents (iam/glue-inventory-remediate.json) and run again")
        newest = max(found, key=lambda event: event.event_time, default=None)
        return judge(newest, plan_id, self.approvers, not_before, EVENT_HISTORY_DAYS)
