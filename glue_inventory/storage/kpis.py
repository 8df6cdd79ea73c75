"""Reads for the published KPIs: failed platforms' accounts and the billed spend per job (CUR export)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from glue_inventory.storage.repository import Bind, transaction
from glue_inventory.storage.tables import data_jobs, job_billed_costs, platforms


def failed_platform_accounts(bind: Bind) -> list[str]:
    """The account of every platform (account and Region) whose last listing failed, once per platform."""
    with transaction(bind) as conn:
        return list(conn.execute(sa.select(platforms.c.account_id).where(platforms.c.status == "failed")).scalars())


def billed_by_key(bind: Bind, since: date) -> dict[str, float] | None:
    """Unblended cost per job key of the bill's lines since `since`; None when no bill was ever loaded."""
    with transaction(bind) as conn:
        if conn.execute(sa.select(job_billed_costs.c.id).limit(1)).first() is None:
            return None
        rows = conn.execute(
            sa.select(data_jobs.c.partition_key, sa.func.sum(job_billed_costs.c.unblended_cost_usd))
            .join(data_jobs, data_jobs.c.id == job_billed_costs.c.data_job_id)
            .where(job_billed_costs.c.usage_date >= since).group_by(data_jobs.c.partition_key))
        return {key: float(total or 0.0) for key, total in rows}
