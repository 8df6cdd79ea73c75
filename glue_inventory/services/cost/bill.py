"""The bill per job: the Cost and Usage Report's Glue line items loaded into `job_billed_costs`, and the
billed cost of each job reconciled with the estimate (analysis/cost/reconcile.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from glue_inventory.analysis.cost.cur_lines import (
    READ_DAYS,
    CurSchemaError,
    ExportFile,
    LineItemSums,
    files_by_period,
    glue_line_items,
    periods_to_read,
)
from glue_inventory.analysis.cost.reconcile import (
    NOT_CONFIGURED,
    Reconciliation,
    billing_window,
    estimates_by_job,
    parse_resource,
    reconcile,
)
from glue_inventory.aws.clients import PlatformSession
from glue_inventory.aws.cur import CurExportError, ScanStats, export_filesystem, line_item_batches, list_export
from glue_inventory.config import PROGRESS_EVERY_S, ConfigError, PlatformConfig, Settings, home_region
from glue_inventory.keys import encode_partition_key
from glue_inventory.storage.cost import bill as store
from glue_inventory.storage.jobs import read_jobs
from glue_inventory.storage.repository import Bind


@dataclass
class BillingLoad:
    """What one read of the export did: periods stored (rows each), skips with their reasons, the scan."""

    configured: bool
    periods: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    scan: ScanStats = field(default_factory=ScanStats)
    unknown_resources: int = 0
    jobs_updated: int = 0
    through: date | None = None
    seconds: float = 0.0


def billing_session(settings: Settings, sessions: Sequence[PlatformSession]) -> PlatformSession:
    """The configured `billing.platform`'s session, else one on the tool's own credentials."""
    name = settings.billing.platform if settings.billing else None
    if name:
        for session in sessions:
            if session.platform.name == name:
                return session
        raise ConfigError(f"billing.platform {name!r}: no configured platform has that name — use one of "
                          f"{sorted({s.platform.name for s in sessions})} or leave it out for the tool's own "
                          "credentials")
    region = home_region()
    return PlatformSession(PlatformConfig(name="billing", regions=[region],
                                          endpoint_url=os.environ.get("AWS_ENDPOINT_URL")), region)


def load_billed_costs(settings: Settings, sessions: Sequence[PlatformSession], bind: Bind, now: datetime,
                      log: Callable[[str], object], dagster_run_id: str | None = None) -> BillingLoad:
    """Read the billing periods overlapping the last 35 days and replace each in `job_billed_costs`.

    A period whose files cannot be read, do not look like a CUR, or hold no Glue line item is skipped with
    its reason and keeps what was stored; an export that cannot be listed raises CurExportError. Either way
    each job's billed fields (`job_costs`) are rewritten from what is stored: a bill, or why there is none.
    """
    started = time.monotonic()
    if settings.billing is None:
        return BillingLoad(configured=False, skipped=[NOT_CONFIGURED])
    try:
        load = _load_periods(settings, sessions, bind, now, log, started)
    finally:
        jobs_updated = store_job_costs(bind, settings, now, dagster_run_id)
    load.jobs_updated = jobs_updated
    load.seconds = time.monotonic() - started
    return load


def store_job_costs(bind: Bind, settings: Settings, now: datetime, dagster_run_id: str | None) -> int:
    """Each job's bill of the window next to its estimate, from the stored line items, into `job_costs`."""
    jobs = read_jobs(bind)
    return store.write_job_costs(bind, _by_job_id(jobs, billed_fields(bind, settings, jobs, now)), dagster_run_id)


def _load_periods(settings: Settings, sessions: Sequence[PlatformSession], bind: Bind, now: datetime,
                  log: Callable[[str], object], started: float) -> BillingLoad:
    assert settings.billing is not None  # noqa: S101 - load_billed_costs returned before
    uri = settings.billing.cur_uri
    fs = export_filesystem(billing_session(settings, sessions))
    files = list_export(fs, uri)
    load = BillingLoad(configured=True)
    wanted = periods_to_read(now, READ_DAYS)
    try:
        by_period = files_by_period(files, wanted)
    except ValueError as exc:
        raise CurExportError(str(exc)) from None
    if not files:
        load.skipped.append(f"no Parquet object under {uri}: is the export delivered yet (the first delivery "
                            "takes up to 24 hours) and is it in Parquet?")
    log(f"billing: {len(files)} Parquet objects under {uri}; reading periods {', '.join(wanted)}")
    unknown: set[str] = set()  # a job billed in two periods is one job the inventory does not know
    for period in wanted:
        period_files = by_period.get(period)
        if not period_files:
            if files:
                load.skipped.append(f"{period}: not in the export (no BILLING_PERIOD={period} folder)")
            continue
        rows = _read_period(fs, period, period_files, load, log, started)
        if rows is None:
            continue
        if not rows:
            load.skipped.append(f"{period}: none of its {len(period_files)} file(s) holds an AWSGlue line item; "
                                "the stored line items of the period are kept")
            continue
        unknown |= _attach_jobs(bind, rows)
        load.periods[period] = store.replace_period(bind, period, rows)
    load.unknown_resources = len(unknown)
    load.through = store.last_usage_date(bind)
    return load


def _read_period(fs, period: str, files: list[ExportFile], load: BillingLoad, log: Callable[[str], object],
                 started: float) -> list[dict] | None:
    """The period's Glue line items summed, or None (the reason recorded) when a file cannot be used."""
    sums = LineItemSums()
    last_progress = time.monotonic()
    for file in files:
        try:
            for columns, batch in line_item_batches(fs, file, load.scan):
                sums.add(glue_line_items(batch, columns, period))
                if time.monotonic() - last_progress >= PROGRESS_EVERY_S:
                    last_progress = time.monotonic()
                    elapsed = last_progress - started
                    log(f"billing: {period}, {load.scan.rows:,} line items read ({load.scan.rows / elapsed:,.0f}/s)")
        except (CurSchemaError, CurExportError) as exc:
            where = "" if str(exc).startswith(file.path) else f"{file.path}: "
            load.skipped.append(f"{period}: {where}{exc}; the stored line items of the period are kept")
            return None
    return sums.rows()


def _attach_jobs(bind: Bind, rows: list[dict]) -> set[str]:
    """Set `data_job_id` on the rows of jobs in the inventory; returns the job resources (their partition keys)
    that are not in it."""
    keys = {}
    for row in rows:
        resource = parse_resource(row["resource_id"], row["operation"], row["usage_type"], row["account_id"],
                                  row["region"])
        if resource.kind == "job" and resource.account_id and resource.region:
            keys[row["resource_id"]] = encode_partition_key(resource.account_id, resource.region, resource.name)
    ids = store.job_ids(bind, set(keys.values()))
    for row in rows:
        row["data_job_id"] = ids.get(keys.get(row["resource_id"], ""))
    return {key for key in keys.values() if key not in ids}


def _by_job_id(jobs: Mapping[str, Mapping], fields: Mapping[str, dict]) -> dict[int, dict]:
    return {jobs[key]["data_job_id"]: values for key, values in fields.items() if key in jobs}


@dataclass
class BillingView:
    """The bill of the window for the given jobs, or why there is none."""

    reason: str | None
    reconciliation: Reconciliation | None = None

    @property
    def available(self) -> bool:
        return self.reconciliation is not None


def billing_view(bind: Bind, settings: Settings, jobs: Mapping[str, Mapping[str, Any]], now: datetime,
                 only_jobs: bool = False) -> BillingView:
    """Each job's bill of the window next to its estimate (`jobs`: `storage.jobs.read_jobs` rows); with
    `only_jobs` just those jobs' line items are read (the rest of the bill is left out)."""
    if settings.billing is None:
        return BillingView(NOT_CONFIGURED)
    window = billing_window(now, settings.thresholds.window_days)
    ids = [job["data_job_id"] for job in jobs.values()] if only_jobs else None
    through = store.last_usage_date(bind)
    if through is None or through < window[0]:
        loaded = f"line items stored through {through.isoformat()}" if through else "glue_billed_costs has not "\
                 "loaded any yet"
        return BillingView(f"the billing export has no Glue line items for {window[0].isoformat()} to "
                           f"{window[1].isoformat()} ({loaded})")
    lines = store.window_lines(bind, *window, data_job_ids=ids)
    classes = {job["data_job_id"]: job.get("execution_class") for job in jobs.values()}
    estimates = estimates_by_job(store.estimates_by_job(bind, *window, data_job_ids=ids), classes)
    return BillingView(None, reconcile(lines, jobs, estimates, settings.pricing, window, min(through, window[1])))


def billed_fields(bind: Bind, settings: Settings, jobs: Mapping[str, Mapping[str, Any]], now: datetime,
                  only_jobs: bool = False) -> dict[str, dict[str, Any]]:
    """The billed fields of each job's metrics: its bill, difference and cause, or why there is no bill.
    Nothing when billing is not configured."""
    if settings.billing is None:
        return {}
    return view_fields(billing_view(bind, settings, jobs, now, only_jobs), jobs)


def view_fields(view: BillingView, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each job's billed fields of a `billing_view`."""
    if view.reconciliation is None:
        return {key: {"billed_30d_usd": None, "cost_basis": "estimate", "billed_unavailable_reason": view.reason}
                for key in keys}
    return {key: values | {"billed_unavailable_reason": None} for key, values in view.reconciliation.jobs.items()}


def billing_summary(view: BillingView) -> dict[str, Any]:
    """What the reports show of the bill besides each job's fields (reports/billing.py)."""
    result = view.reconciliation
    if result is None:
        return {"available": False, "reason": view.reason}
    return {"available": True, "window": {"start": result.window[0].isoformat(), "end": result.window[1].isoformat()},
            "through": result.through.isoformat() if result.through else None, "totals": result.totals,
            "not_jobs": result.not_jobs, "unknown_jobs": result.unknown_jobs}
