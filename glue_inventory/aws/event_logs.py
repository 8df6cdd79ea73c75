"""S3 reads of Spark event logs under a job's `--spark-event-logs-path`: the logs of a time window, and each
object's bytes streamed up to a bound.

Spark names a log after its application, and Glue's application ids are `spark-application-<start, epoch ms>`:
the keys sort by start time, so a listing starts after the window's first millisecond (`StartAfter`) and stops
past its last, whatever else the (often shared) prefix holds. Two families are listed: single files
`spark-application-<ms>[.codec]` and rolled folders `eventlog_v2_spark-application-<ms>/`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from glue_inventory import telemetry

SINGLE = "spark-application-"
ROLLED = "eventlog_v2_spark-application-"
_APP_MS = re.compile(r"spark-application-(\d{13})")
# ListObjectsV2 returns at most 1,000 keys a page (Amazon S3 API reference).
PAGE_KEYS = 1000
CHUNK_BYTES = 1024 * 1024


@dataclass
class EventLogObjects:
    """One application's log: its S3 objects in reading order (a rolled log's `events_<n>_…` by n)."""

    bucket: str
    app_id: str
    started_ms: int
    rolled: bool
    objects: list[dict] = field(default_factory=list)  # {key, size, etag}
    in_progress: bool = False

    @property
    def location(self) -> str:
        first = self.objects[0]["key"] if self.objects else ""
        return f"s3://{self.bucket}/{first.rsplit('/', 1)[0] + '/' if self.rolled else first}"

    @property
    def size(self) -> int:
        return sum(o["size"] for o in self.objects)


def split_path(url: str) -> tuple[str, str]:
    """(bucket, prefix ending in /) of an `s3://bucket/prefix` event log path; ValueError naming the fix."""
    if not url.startswith("s3://") or len(url) <= 5:
        raise ValueError(f"--spark-event-logs-path {url!r} is not an s3://bucket/prefix/ URL — set it to the S3 "
                         "folder Spark writes its event logs to")
    bucket, _, prefix = url[5:].partition("/")
    return bucket, (prefix if not prefix or prefix.endswith("/") else prefix + "/")


def _keys(s3, bucket: str, prefix: str, family: str, since_ms: int, until_ms: int) -> Iterator[dict]:
    kwargs = {"Bucket": bucket, "Prefix": prefix + family, "StartAfter": f"{prefix}{family}{since_ms:013d}",
              "MaxKeys": PAGE_KEYS}
    while True:
        page = s3.list_objects_v2(**kwargs)
        for item in page.get("Contents") or []:
            match = _APP_MS.search(item["Key"][len(prefix):])
            if match and int(match.group(1)) > until_ms:
                return
            yield item
        if not page.get("IsTruncated"):
            return
        kwargs["ContinuationToken"] = page["NextContinuationToken"]


def _events_number(key: str) -> int:
    name = key.rsplit("/", 1)[-1]
    match = re.match(r"events_(\d+)_", name)
    return int(match.group(1)) if match else 0


def list_event_logs(s3, url: str, since_ms: int, until_ms: int) -> list[EventLogObjects]:
    """The logs of the applications started between `since_ms` and `until_ms` under `url`, oldest first."""
    bucket, prefix = split_path(url)
    logs: dict[str, EventLogObjects] = {}
    with telemetry.span("s3 list event logs", {"aws.s3.bucket": bucket}):
        for family, rolled in ((SINGLE, False), (ROLLED, True)):
            for item in _keys(s3, bucket, prefix, family, since_ms, until_ms):
                relative = item["Key"][len(prefix):]
                match = _APP_MS.search(relative)
                if not match:
                    continue
                app_id = f"spark-application-{match.group(1)}"
                log = logs.setdefault(app_id, EventLogObjects(bucket, app_id, int(match.group(1)), rolled))
                name = relative.rsplit("/", 1)[-1]
                if rolled and name.startswith("appstatus_"):
                    log.in_progress = log.in_progress or name.endswith(".inprogress")
                    continue
                log.in_progress = log.in_progress or name.endswith(".inprogress")
                log.objects.append({"key": item["Key"], "size": int(item.get("Size") or 0),
                                    "etag": str(item.get("ETag") or "").strip('"')})
    for log in logs.values():
        log.objects.sort(key=lambda o: (_events_number(o["key"]), o["key"]))
    return sorted((log for log in logs.values() if log.objects), key=lambda log: log.started_ms)


def object_chunks(s3, bucket: str, key: str, limit: int | None = None) -> Iterator[bytes]:
    """The object's bytes in chunks, the first `limit` bytes only when given (a Range request: S3 sends no
    more than that)."""
    if limit is not None and limit <= 0:
        return
    kwargs = {"Range": f"bytes=0-{limit - 1}"} if limit is not None else {}
    body = s3.get_object(Bucket=bucket, Key=key, **kwargs)["Body"]
    try:
        yield from body.iter_chunks(CHUNK_BYTES)
    finally:
        body.close()
