"""Reads for the published KPIs: failed platforms' accounts (the rest comes from `read_jobs` and the candidates)."""

from __future__ import annotations

import sqlalchemy as sa

from glue_inventory.storage.repository import Bind, transaction
from glue_inventory.storage.tables import platforms


def failed_platform_accounts(bind: Bind) -> list[str]:
    """The account of every platform (account and Region) whose last listing failed, once per platform."""
    with transaction(bind) as conn:
        return list(conn.execute(sa.select(platforms.c.account_id).where(platforms.c.status == "failed")).scalars())
