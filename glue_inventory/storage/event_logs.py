"""`event_log_summaries`: parsed Spark event log summaries, found again by S3 location and ETag."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from glue_inventory.storage.repository import Bind, dialect_insert, transaction
from glue_inventory.storage.tables import event_log_summaries, utcnow

KEY = ("location", "etag", "summary_version", "max_bytes")


def cached_summary(bind: Bind, location: str, etag: str, summary_version: int, max_bytes: int) -> dict | None:
    """The summary parsed from this exact log (same ETag, parser version and byte bound), or None."""
    table = event_log_summaries
    query = sa.select(table.c.summary).where(
        table.c.location == location, table.c.etag == etag, table.c.summary_version == summary_version,
        table.c.max_bytes == max_bytes)
    with transaction(bind) as conn:
        return conn.execute(query).scalar_one_or_none()


def store_summary(bind: Bind, location: str, etag: str, summary_version: int, max_bytes: int, size_bytes: int,
                  summary: Mapping[str, Any]) -> None:
    """Keep a parsed summary; the same log parsed again replaces it."""
    with transaction(bind) as conn:
        stmt = dialect_insert(conn, event_log_summaries).values(
            location=location, etag=etag, summary_version=summary_version, max_bytes=max_bytes,
            size_bytes=size_bytes, summary=dict(summary), created_at=utcnow())
        conn.execute(stmt.on_conflict_do_update(index_elements=list(KEY),
                                                set_={"summary": stmt.excluded.summary,
                                                      "size_bytes": stmt.excluded.size_bytes,
                                                      "created_at": stmt.excluded.created_at}))
