"""S3 reads: a job's script, at most a given number of bytes."""

from __future__ import annotations

from glue_inventory import telemetry


def split_s3_url(url: str) -> tuple[str, str]:
    if not url.startswith("s3://") or "/" not in url[5:]:
        raise ValueError(f"ScriptLocation {url!r} is not an s3://bucket/key URL")
    bucket, _, key = url[5:].partition("/")
    return bucket, key


def read_head(s3, url: str, max_bytes: int) -> bytes:
    """The object's first `max_bytes` + 1 bytes: one byte past the limit tells "too large" without
    downloading a huge object. Raises ValueError for a URL that is not s3://bucket/key."""
    bucket, key = split_s3_url(url)
    with telemetry.span("s3 download", {"aws.s3.bucket": bucket}) as span:
        body = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max_bytes}")["Body"].read()
        span.set_attribute("glue_inventory.bytes", len(body))
    return body
