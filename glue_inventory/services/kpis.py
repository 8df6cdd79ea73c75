"""After each inventory: the KPIs (live jobs, spend, savings identified and realized, candidates by priority,
failed platforms) published to CloudWatch under `metrics.cloudwatch_namespace`, by account and team."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from glue_inventory.analysis.actions.realized import WINDOW_DAYS, monthly_saving
from glue_inventory.analysis.fleet import flat_job
from glue_inventory.analysis.kpis import Kpi, fleet_kpis, health_kpis
from glue_inventory.analysis.tags import ownership
from glue_inventory.aws.cloudwatch import publish_metric_data
from glue_inventory.aws.errors import AWS_ERRORS, describe_any
from glue_inventory.config import MetricsSettings
from glue_inventory.storage.actions.remediation import events_since
from glue_inventory.storage.candidates import current_candidates
from glue_inventory.storage.jobs import read_jobs
from glue_inventory.storage.kpis import failed_platform_accounts
from glue_inventory.storage.repository import Bind


@dataclass
class Published:
    namespace: str
    kpis: list[Kpi]
    calls: int = 0
    error: str | None = None


def current_kpis(bind: Bind, now: datetime, levels: Collection[str] = ("account",)) -> list[Kpi]:
    """The KPIs of the inventory as stored now, at the `levels` of `metrics.dimensions`: each live job's
    estimate and bill (`job_costs`, the reconciliation window the reports show) summed as analysis.fleet
    sums them (deleted jobs' spend of the window counts; they are not live jobs)."""
    jobs = [{"key": key, "account_id": job["account_id"], "team": ownership(job["tags"] or {})["team"],
             **flat_job(job)} for key, job in read_jobs(bind).items()]
    realized = [{"account_id": event["account_id"], "team": ownership(event["tags"] or {})["team"],
                 "monthly_savings_usd": monthly_saving(event)}
                for event in events_since(bind, now - timedelta(days=WINDOW_DAYS))]
    billed = {job["key"]: job["billed_30d_usd"] for job in jobs if job["billed_30d_usd"] is not None}
    return fleet_kpis(jobs, current_candidates(bind), realized, failed_platform_accounts(bind), billed or None, levels)


def publish_kpis(bind: Bind, settings: MetricsSettings, now: datetime) -> Published | None:
    """Publish the KPIs when a namespace is configured (None otherwise). A failed PutMetricData is reported in
    the result, never raised: the inventory's own work is done."""
    if not settings.cloudwatch_namespace:
        return None
    return _publish(settings, current_kpis(bind, now, settings.dimensions), now)


def publish_health(settings: MetricsSettings, inventory_age_hours: float | None, last_run_succeeded: bool | None,
                   now: datetime) -> Published | None:
    """Publish InventoryAgeHours and LastRunSucceeded when a namespace is configured (None otherwise)."""
    if not settings.cloudwatch_namespace:
        return None
    return _publish(settings, health_kpis(inventory_age_hours, last_run_succeeded), now)


def _publish(settings: MetricsSettings, kpis: list[Kpi], now: datetime) -> Published:
    namespace = settings.cloudwatch_namespace
    if not namespace:
        raise ValueError("metrics.cloudwatch_namespace is not set: nothing to publish to")
    published = Published(namespace, kpis)
    datums = [{"MetricName": kpi.name, "Dimensions": [{"Name": n, "Value": v} for n, v in kpi.dimensions],
               "Value": kpi.value, "Unit": kpi.unit, "Timestamp": now} for kpi in kpis]
    if not datums:
        return published
    try:
        published.calls = publish_metric_data(namespace, datums, settings.region)
    except AWS_ERRORS as exc:
        published.error = describe_any(exc)
    return published
