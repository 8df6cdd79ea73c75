"""CloudTrail's event history for the simulator (moto has no LookupEvents).

Every Glue TagResource and Resource Groups Tagging TagResources that reaches the simulator is recorded with the
caller's identity (the IAM user or assumed-role session of its access key, as moto knows them) and served by
LookupEvents as AWS serves it: events newest first, 50 at most a page (`MaxResults`, default 50) with a
NextToken, one lookup attribute, StartTime/EndTime, each event with its `CloudTrailEvent` JSON record.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from moto.glue.models import glue_backends
from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from glue_inventory.simulate.accounts import access_key
from glue_inventory.simulate.catalog import DEFAULT_REGION
from glue_inventory.simulate.dispatch import json_response
from glue_inventory.simulate.middleware import ACCOUNT_KEY, request_region

TAG_RESOURCE, TAG_RESOURCES = "AWSGlue.TagResource", "ResourceGroupsTaggingAPI_20170126.TagResources"
LOOKUP_EVENTS = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
# LookupEvents: MaxResults 1-50, default 50 (AWS CloudTrail API reference).
MAX_PAGE = 50
# LookupAttributes key → the event's field it filters on.
_ATTRIBUTES = {"EventId": "EventId", "EventName": "EventName", "EventSource": "EventSource",
               "Username": "Username", "AccessKeyId": "AccessKeyId", "ReadOnly": "ReadOnly"}


def user_identity(environ: dict, account: str) -> dict[str, Any]:
    """CloudTrail's userIdentity of the request's access key: an assumed-role session, an IAM user, or (moto's
    default credentials) the account's root."""
    key = access_key(environ) or ""
    role = sts_backends[account]["aws"].get_assumed_role_from_access_key(key)
    if role is not None:
        role_name = role.role_arn.rsplit("/", 1)[-1]
        return {"type": "AssumedRole", "principalId": f"AROA{account}:{role.session_name}", "arn": role.arn,
                "accountId": account, "accessKeyId": key,
                "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": f"AROA{account}",
                                                     "arn": role.role_arn, "accountId": account,
                                                     "userName": role_name},
                                   "attributes": {"mfaAuthenticated": "false"}}}
    user = iam_backends[account]["global"].get_user_from_access_key_id(key)
    if user is not None:
        return {"type": "IAMUser", "principalId": user.id, "arn": user.arn, "accountId": account,
                "accessKeyId": key, "userName": user.name}
    return {"type": "Root", "principalId": account, "arn": f"arn:aws:iam::{account}:root", "accountId": account,
            "accessKeyId": key}


class EventHistory:
    """The recorded tag calls of every account and Region, and the WSGI handlers that record and serve them."""

    def __init__(self, moto_app: Callable, default_account: str) -> None:
        self.moto_app, self.default_account = moto_app, default_account
        self.events: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (account, Region) → oldest first
        self.lock = threading.Lock()

    def handlers(self) -> dict[str, Callable[[dict, Callable], Iterable[bytes]]]:
        return {TAG_RESOURCE: self._tag_resource, TAG_RESOURCES: self._tag_resources, LOOKUP_EVENTS: self._lookup}

    def _request(self, environ: dict) -> tuple[dict, str, str]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # put it back for moto
        return (json.loads(body or b"{}"), environ.get(ACCOUNT_KEY) or self.default_account,
                request_region(environ) or DEFAULT_REGION)

    def record(self, environ: dict, account: str, region: str, source: str, name: str, parameters: dict,
               resources: list[str]) -> dict[str, Any]:
        """Record one call as CloudTrail would (to the second)."""
        identity = user_identity(environ, account)
        when = datetime.now(UTC).replace(microsecond=0)
        event_id = str(uuid.uuid4())
        record = {"eventVersion": "1.08", "userIdentity": identity, "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "eventSource": source, "eventName": name, "awsRegion": region, "sourceIPAddress": "127.0.0.1",
                  "userAgent": environ.get("HTTP_USER_AGENT", ""), "requestParameters": parameters,
                  "responseElements": None, "requestID": str(uuid.uuid4()), "eventID": event_id,
                  "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True,
                  "recipientAccountId": account, "eventCategory": "Management"}
        event = {"EventId": event_id, "EventName": name, "ReadOnly": "false", "AccessKeyId": identity["accessKeyId"],
                 "EventTime": when, "EventSource": source,
                 "Username": identity["arn"].rsplit("/", 1)[-1] if identity["type"] != "Root" else "root",
                 "Resources": [{"ResourceType": "AWS::Glue::Job", "ResourceName": arn} for arn in resources],
                 "CloudTrailEvent": json.dumps(record)}
        with self.lock:
            self.events.setdefault((account, region), []).append(event)
        return event

    def _tag_resource(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request, account, region = self._request(environ)
        answer = _Captured(start_response)
        body = list(self.moto_app(environ, answer))
        if answer.ok:
            self.record(environ, account, region, "glue.amazonaws.com", "TagResource",
                        {"resourceArn": request.get("ResourceArn"), "tagsToAdd": request.get("TagsToAdd") or {}},
                        [request.get("ResourceArn")])
        return body

    def _tag_resources(self, environ: dict, start_response: Callable) -> list[bytes]:
        """Tags Glue jobs in moto's Glue backend (moto's tagging API cannot tag them) and records the call."""
        request, account, region = self._request(environ)
        arns, tags = request.get("ResourceARNList") or [], request.get("Tags") or {}
        backend = glue_backends[account][region]
        failed = {}
        for arn in arns:
            if arn.rsplit("/", 1)[-1] in backend.jobs and ":job/" in arn:
                backend.tag_resource(arn, tags)
            else:
                failed[arn] = {"StatusCode": 404, "ErrorCode": "InvalidParameterException",
                               "ErrorMessage": f"{arn} not found"}
        self.record(environ, account, region, "tagging.amazonaws.com", "TagResources",
                    {"resourceARNList": arns, "tags": tags}, arns)
        return json_response(start_response, "200 OK", {"FailedResourcesMap": failed})

    def _lookup(self, environ: dict, start_response: Callable) -> list[bytes]:
        request, account, region = self._request(environ)
        attributes = request.get("LookupAttributes") or []
        size = int(request.get("MaxResults") or MAX_PAGE)
        if len(attributes) > 1 or not 1 <= size <= MAX_PAGE:
            return json_response(start_response, "400 Bad Request", {
                "__type": "InvalidLookupAttributesException" if len(attributes) > 1 else "InvalidMaxResultsException",
                "message": "one lookup attribute at most; MaxResults 1-50"})
        start, end = (_when(request.get(name)) for name in ("StartTime", "EndTime"))
        with self.lock:
            found = [e for e in reversed(self.events.get((account, region), []))
                     if (start is None or e["EventTime"] >= start) and (end is None or e["EventTime"] <= end)
                     and all(e.get(_ATTRIBUTES.get(a["AttributeKey"], "")) == a["AttributeValue"]
                             for a in attributes)]
        first = int(request.get("NextToken") or 0)
        body: dict[str, Any] = {"Events": found[first:first + size]}
        if first + size < len(found):
            body["NextToken"] = str(first + size)
        return json_response(start_response, "200 OK", body)


def _when(value: float | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class _Captured:
    """start_response that remembers whether moto answered with success."""

    def __init__(self, start_response: Callable) -> None:
        self.start_response, self.ok = start_response, False

    def __call__(self, status: str, headers: list, *args: Any) -> Any:
        self.ok = status.startswith("2")
        return self.start_response(status, headers, *args)
