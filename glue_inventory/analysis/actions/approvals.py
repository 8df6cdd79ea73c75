"""Who approved a remediation plan: the CloudTrail event that set the approval tag on the job, the principal who
made the call, and whether that principal is one of `remediation.approvers`.

Plain data in (CloudTrail events as the `CloudTrailEvent` JSON parsed to a dict), plain data out. The tag alone
proves nothing (anyone allowed `glue:TagResource` can set it); the event says who set it, and when.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from glue_inventory.analysis.actions.plans import APPROVE_TAG

# The two ways to tag a Glue job, as CloudTrail names them: Glue's TagResource (requestParameters resourceArn,
# tagsToAdd) and the Resource Groups Tagging API's TagResources (resourceARNList, tags).
TAG_EVENTS = {("glue.amazonaws.com", "TagResource"): ("resourceArn", "tagsToAdd"),
              ("tagging.amazonaws.com", "TagResources"): ("resourceARNList", "tags")}


@dataclass(frozen=True)
class TagEvent:
    """A CloudTrail event that tagged resources: who, when, which resources, which tags."""

    event_id: str
    event_time: datetime
    event_name: str
    principal_arn: str
    # The role behind an assumed-role session (sessionContext.sessionIssuer.arn), which approvers may name.
    issuer_arn: str | None
    resource_arns: tuple[str, ...]
    tags: Mapping[str, str] = field(default_factory=dict)
    # Set when AWS refused the call (an SCP denied the tag, say): CloudTrail records refused calls too.
    error_code: str | None = None

    def principals(self) -> list[str]:
        return [arn for arn in (self.principal_arn, self.issuer_arn) if arn]


@dataclass(frozen=True)
class Approval:
    """The proof kept for an applied plan."""

    approver_arn: str
    event_id: str
    event_time: datetime


def event_time(text: str) -> datetime:
    """CloudTrail's eventTime (`2026-12-06T01:02:03Z`) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def tag_event(record: Mapping[str, Any]) -> TagEvent | None:
    """The CloudTrail record of a TagResource or TagResources call; None for any other event."""
    fields = TAG_EVENTS.get((str(record.get("eventSource")), str(record.get("eventName"))))
    if fields is None:
        return None
    arns_field, tags_field = fields
    params = record.get("requestParameters") or {}
    arns = params.get(arns_field) or []
    identity = record.get("userIdentity") or {}
    issuer = ((identity.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")
    return TagEvent(event_id=record.get("eventID", ""), event_time=event_time(record["eventTime"]),
                    event_name=record["eventName"], principal_arn=identity.get("arn") or identity.get("type", "?"),
                    issuer_arn=issuer if identity.get("type") == "AssumedRole" else None,
                    resource_arns=tuple([arns] if isinstance(arns, str) else arns),
                    tags=dict(params.get(tags_field) or {}), error_code=record.get("errorCode"))


@cache
def _arn_like(pattern: str) -> re.Pattern[str]:
    # IAM's ArnLike: `*` matches any run of characters (`/` included), the rest literally, case-sensitively.
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def matching_approver(patterns: Sequence[str], event: TagEvent) -> str | None:
    """The first approver pattern that the event's principal (or the role of its session) matches."""
    return next((pattern for pattern in patterns
                 if any(_arn_like(pattern).fullmatch(arn) for arn in event.principals())), None)


def newest_approval_event(events: Iterable[TagEvent], job_arn: str) -> TagEvent | None:
    """The first event (the newest, from a newest-first stream) that set the approval tag on the job and
    succeeded."""
    return next((e for e in events if not e.error_code and job_arn in e.resource_arns and APPROVE_TAG in e.tags),
                None)


def judge(event: TagEvent | None, plan_id: str, approvers: Sequence[str], not_before: datetime,
          days: int) -> Approval | str:
    """The approval of `plan_id` that `event` (the newest that set the tag) proves, or why it proves none.

    `not_before` is when the plan was made (or last applied): an approval older than that approved something
    else. CloudTrail keeps its times to the second."""
    if not approvers:
        return "remediation.approvers is empty: name the IAM roles or users who may approve plans in the config"
    if event is None:
        return (f"no CloudTrail event of the last {days} days sets {APPROVE_TAG} on this job (CloudTrail shows a "
                "call after up to 15 minutes: run again later)")
    where = f"CloudTrail event {event.event_id} at {event.event_time:%Y-%m-%d %H:%M:%S}Z"
    value = event.tags[APPROVE_TAG]
    if value != plan_id:
        return f"the newest approval ({where}) set {APPROVE_TAG}={value}, not {plan_id}: approve the plan again"
    if event.event_time < not_before.astimezone(UTC).replace(microsecond=0):
        return (f"the approval ({where}) is older than plan {plan_id} "
                f"({not_before.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z): approve the plan again")
    if matching_approver(approvers, event) is None:
        return f"approved by {event.principal_arn} ({where}), who is not in remediation.approvers"
    return Approval(event.principal_arn, event.event_id, event.event_time)
