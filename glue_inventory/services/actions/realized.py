"""Each inventory compares every job with its stored state: the remediation changes it finds (by the tool or
anyone) become `remediation_events`, in the same transaction as the new state, so a rerun adds none twice."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from glue_inventory.analysis.actions.realized import detect_changes
from glue_inventory.config import Pricing
from glue_inventory.storage.actions.remediation import applications_since, current_plan_kinds, insert_events
from glue_inventory.storage.repository import Bind


def record_changes(conn: Bind, previous: Mapping[str, Mapping], listed: Mapping[str, Mapping], region: str,
                   seen_at: datetime, pricing: Pricing) -> int:
    """Record the changes between `previous` (name → stored row, read before the upsert) and `listed` (name →
    the new listing's row; a name missing from it vanished). Returns how many were recorded."""
    job_ids = [row["id"] for row in previous.values()]
    planned = current_plan_kinds(conn, job_ids)
    applied = applications_since(conn, {row["id"]: row["last_seen_at"] for row in previous.values()})
    events = []
    for name, before in previous.items():
        plans = planned.get(before["id"], {})
        by_tool = {row["kind"]: row["plan_id"] for row in applied.get(before["id"], [])}
        for event in detect_changes(before, listed.get(name), region, pricing, plans):
            kind = event["kind"]
            events.append({**event, "data_job_id": before["id"], "detected_at": seen_at,
                           "plan_id": by_tool.get(kind) or plans.get(kind),
                           "applied_by": "tool" if kind in by_tool else "outside"})
    return insert_events(conn, events)
