"""`learned_rates`: the request rate the adaptive pacing learned per (account, Region, API family).

A run reads every row once when its first client is paced, and writes what it learned when it ends; the
platform health table shows the rates and the last run's throttled answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from glue_inventory.storage.repository import Bind, transaction
from glue_inventory.storage.tables import learned_rates

_KEY = ("account_id", "region", "api_family")
_VALUES = ("requests_per_second", "limit_found", "calls", "throttled")
# Runs end side by side (a refresh, a deep analysis): an upsert, so neither fails on the other's row.
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def load_learned_rates(bind: Bind) -> list[dict]:
    """Every stored rate: account_id, region, api_family, requests_per_second, limit_found, calls, throttled,
    updated_at."""
    with transaction(bind) as conn:
        return [dict(row) for row in conn.execute(sa.select(learned_rates)).mappings()]


def save_learned_rates(bind: Bind, rows: Iterable[dict], now: datetime) -> int:
    """Insert or replace the rate of each (account_id, region, api_family) in `rows`; returns how many."""
    rows = [{**{key: row[key] for key in (*_KEY, *_VALUES)}, "updated_at": now} for row in rows]
    if not rows:
        return 0
    with transaction(bind) as conn:
        insert = _INSERTS[conn.dialect.name](learned_rates).values(rows)
        conn.execute(insert.on_conflict_do_update(
            index_elements=list(_KEY), set_={k: insert.excluded[k] for k in (*_VALUES, "updated_at")}))
    return len(rows)


def rates_by_platform(bind: Bind) -> dict[tuple[str, str], list[dict]]:
    """The stored rates by (account_id, region), each family's rate and last run's calls and throttled answers."""
    by_platform: dict[tuple[str, str], list[dict]] = {}
    for row in sorted(load_learned_rates(bind), key=lambda r: r["api_family"]):
        by_platform.setdefault((row["account_id"], row["region"]), []).append(
            {"family": row["api_family"], "requests_per_second": row["requests_per_second"],
             "limit_found": row["limit_found"], "calls": row["calls"], "throttled": row["throttled"]})
    return by_platform
