"""Reads and writes of `platforms` beyond the upsert: what is stored, moving jobs between platforms of the
same account and Region, retiring a platform the Organization no longer has."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa

from glue_inventory.keys import ALL_REGIONS
from glue_inventory.storage.learned_rates import rates_by_platform
from glue_inventory.storage.repository import Bind, mark_deleted, transaction
from glue_inventory.storage.tables import data_jobs, platforms


class StoredPlatform(NamedTuple):
    id: int
    name: str
    account_id: str
    region: str
    status: str


def stored_targets(bind: Bind) -> list[StoredPlatform]:
    with transaction(bind) as conn:
        return [StoredPlatform(*row) for row in conn.execute(
            sa.select(platforms.c.id, platforms.c.name, platforms.c.account_id, platforms.c.region, platforms.c.status)
            .order_by(platforms.c.id))]


def adopt_jobs(bind: Bind, platform_id: int, account_id: str, region: str) -> int:
    """Move the jobs other platforms of the same account and Region hold to `platform_id` (their partition
    keys, unique, name the account and Region, so no name can clash); returns how many moved."""
    others = sa.select(platforms.c.id).where(platforms.c.account_id == account_id, platforms.c.region == region,
                                             platforms.c.id != platform_id)
    with transaction(bind) as conn:
        return conn.execute(sa.update(data_jobs).where(data_jobs.c.platform_id.in_(others))
                            .values(platform_id=platform_id)).rowcount


def retire(bind: Bind, platform_id: int, reason: str, now: datetime) -> list[str]:
    """The platform is no longer inventoried: status `skipped` with the reason, its jobs deleted (history kept)."""
    with transaction(bind) as conn:
        conn.execute(sa.update(platforms).where(platforms.c.id == platform_id)
                     .values(status="skipped", last_error=reason, last_synced_at=now, updated_at=now))
        return mark_deleted(conn, platform_id, set(), now)


def delete_placeholder(bind: Bind, platform_id: int) -> None:
    """Drop a skipped account's `*` row once the account is inventoried again (such a row holds no jobs)."""
    with transaction(bind) as conn:
        conn.execute(sa.delete(platforms).where(platforms.c.id == platform_id,
                                                platforms.c.region == ALL_REGIONS))


def platform_rows(bind: Bind) -> list[dict]:
    """Every platform as the reports show it: account, name, OU path, Region, status and its reason, and the
    request rates the pacing learned there (per API family, with the last run's throttled answers)."""
    columns = (platforms.c.name, platforms.c.account_id, platforms.c.account_name, platforms.c.ou_path,
               platforms.c.region, platforms.c.source, platforms.c.status, platforms.c.last_error,
               platforms.c.last_synced_at)
    with transaction(bind) as conn:
        rows = [dict(row) for row in conn.execute(
            sa.select(*columns).order_by(platforms.c.account_id, platforms.c.region)).mappings()]
        rates = rates_by_platform(conn)
    for row in rows:
        row["learned_rates"] = rates.get((row["account_id"], row["region"]), [])
    return rows
