"""A Cost and Usage Report for a simulated fleet: an AWS Data Exports "CUR 2.0" export in Parquet, written
into the fleet's S3 as AWS delivers it (`<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/<export>-0000N.snappy.parquet`).

Glue line items follow the runs: the DPU-hours Glue bills for each run (truth.py: DPUSeconds, else capacity ×
time with the billing minimum) summed per job, usage day (or hour) and usage type, FLEX runs at the FLEX rate.
Around them, the noise of a real bill: a Savings Plan covering part of two jobs' usage (covered usage and its
negation), a credit and tax, a crawler, an interactive session and Data Catalog storage, a job deleted before
the inventory first listed it, one job billed four times what its runs explain, and other services' line items.
The line items written are kept (`CurExport.glue_lines`) so tests compute what the bill says on their own.
"""

from __future__ import annotations

import io
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from moto.s3.models import s3_backends

from glue_inventory.simulate.catalog import DEFAULT_REGION, PRICE_PER_DPU_HOUR
from glue_inventory.simulate.fleet import Fleet, SimJob
from glue_inventory.simulate.truth import run_dpu_hours

EXPORT_NAME = "glue-inventory-cur"
PREFIX = "cur"
# Months written: every one overlapping these days before now (the reader takes the last 35 days').
HISTORY_DAYS = 65
OVER_BUDGET_FACTOR = 4.0
DELETED_JOB = "legacy_orders_export_v1"
CRAWLER = "sales_raw_crawler"
SESSION = "glue-studio-datapreview-3f1c2a9e-5d47-4f0e-9c1b-7a2e8d6b4c10"
CREDIT_USD = -25.0
TAX_USD = 3.12
CATALOG_USD = 1.5
# AWS usage type prefixes of the fleet's Regions (the price list's region codes).
USAGE_PREFIX = {"us-east-1": "USE1", "us-east-2": "USE2", "us-west-2": "USW2", "eu-west-1": "EU",
                "eu-central-1": "EUC1"}
# Other services' line items, for the reader to filter out.
OTHER_PRODUCTS = (("AmazonS3", "TimedStorage-ByteHrs", "StandardStorage", 0.023),
                  ("AmazonEC2", "BoxUsage:m5.large", "RunInstances", 0.096),
                  ("AmazonCloudWatch", "CW:MetricMonitorUsage", "MetricStorage", 0.30))

_MAP = pa.map_(pa.string(), pa.string())
_TIME = pa.timestamp("ms", tz="UTC")
# CUR 2.0's fixed schema, the columns a Glue reconciliation touches plus two map columns (which shift the
# Parquet leaf indexes, as in a real export).
SCHEMA = pa.schema([
    ("bill_billing_period_start_date", _TIME), ("bill_payer_account_id", pa.string()),
    ("cost_category", _MAP), ("identity_line_item_id", pa.string()), ("identity_time_interval", pa.string()),
    ("line_item_line_item_description", pa.string()), ("line_item_line_item_type", pa.string()),
    ("line_item_net_unblended_cost", pa.float64()), ("line_item_operation", pa.string()),
    ("line_item_product_code", pa.string()), ("line_item_resource_id", pa.string()),
    ("line_item_unblended_cost", pa.float64()), ("line_item_usage_account_id", pa.string()),
    ("line_item_usage_amount", pa.float64()), ("line_item_usage_end_date", _TIME),
    ("line_item_usage_start_date", _TIME), ("line_item_usage_type", pa.string()), ("product", _MAP),
    ("product_region_code", pa.string()), ("resource_tags", _MAP),
])


@dataclass
class CurExport:
    """What was written: where, the objects (key → line items), every Glue line item, what was planted."""

    bucket: str
    uri: str
    objects: dict[str, int] = field(default_factory=dict)
    glue_lines: list[dict[str, Any]] = field(default_factory=list)
    planted: dict[str, Any] = field(default_factory=dict)

    @property
    def line_items(self) -> int:
        return sum(self.objects.values())

    def billed_by_job(self, first: date, last: date) -> dict[str, float]:
        """Usage line items (Usage, SavingsPlanCoveredUsage) of job resources on the days first..last, per job key."""
        billed: dict[str, float] = defaultdict(float)
        for line in self._between(first, last):
            if line["sim_kind"] == "job" and line["line_item_line_item_type"] != "SavingsPlanNegation":
                billed[line["sim_key"]] += line["line_item_unblended_cost"]
        return dict(billed)

    def billed_by_kind(self, first: date, last: date) -> dict[str, float]:
        """Unblended cost of the days first..last per planted kind (job, crawler, session, catalog, credit, tax)."""
        billed: dict[str, float] = defaultdict(float)
        for line in self._between(first, last):
            if line["line_item_line_item_type"] != "SavingsPlanNegation":
                billed[line["sim_kind"]] += line["line_item_unblended_cost"]
        return dict(billed)

    def _between(self, first: date, last: date) -> Iterator[dict[str, Any]]:
        return (line for line in self.glue_lines if first <= line["line_item_usage_start_date"].date() <= last)


def _usage_type(region: str, kind: str) -> str:
    return f"{USAGE_PREFIX.get(region, region.upper())}-{kind}"


def _line(account_id: str, region: str, start: datetime, hours: int, line_type: str, usage_type: str,
          operation: str, resource: str, amount: float, cost: float, description: str, rng: random.Random,
          product: str = "AWSGlue") -> dict[str, Any]:
    end = start + timedelta(hours=hours)
    return {
        "bill_billing_period_start_date": start.replace(day=1, hour=0), "bill_payer_account_id": account_id,
        "cost_category": [], "identity_line_item_id": f"{rng.getrandbits(128):032x}",
        "identity_time_interval": f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}",
        "line_item_line_item_description": description, "line_item_line_item_type": line_type,
        "line_item_net_unblended_cost": None, "line_item_operation": operation, "line_item_product_code": product,
        "line_item_resource_id": resource, "line_item_unblended_cost": round(cost, 10),
        "line_item_usage_account_id": account_id, "line_item_usage_amount": round(amount, 10),
        "line_item_usage_end_date": end, "line_item_usage_start_date": start, "line_item_usage_type": usage_type,
        "product": [("region", region), ("servicename", product)], "product_region_code": region,
        "resource_tags": [],
    }


def _arn(kind: str, name: str, account_id: str, region: str) -> str:
    return f"arn:aws:glue:{region}:{account_id}:{kind}/{name}"


class _Writer:
    """Builds the line items of one export; `lines` are every row, Glue and other."""

    def __init__(self, fleet: Fleet, now: datetime, hourly: bool, seed: int) -> None:
        self.fleet, self.now, self.hourly = fleet, now, hourly
        self.rng = random.Random(seed)
        self.start = datetime.combine((now - timedelta(days=HISTORY_DAYS)).date().replace(day=1), datetime.min.time(),
                                      UTC)
        self.lines: list[dict[str, Any]] = []
        self.glue: list[dict[str, Any]] = []

    def add(self, kind: str, key: str | None, line: dict[str, Any]) -> None:
        self.lines.append(line)
        self.glue.append(line | {"sim_kind": kind, "sim_key": key})

    def slot(self, moment: datetime) -> datetime:
        return moment.replace(minute=0, second=0, microsecond=0) if self.hourly else \
            moment.replace(hour=0, minute=0, second=0, microsecond=0)

    def job_usage(self, job: SimJob) -> dict[tuple[datetime, bool], float]:
        """DPU-hours per usage slot and FLEX-or-not, from every run Glue billed since the first month written."""
        usage: dict[tuple[datetime, bool], float] = defaultdict(float)
        for run in (*job.runs, *job.expired_runs):
            if run.started < self.start.timestamp() or run.started > self.now.timestamp():
                continue
            hours = run_dpu_hours(run, job.command["Name"])
            if hours > 0:
                usage[(self.slot(run.started_on), run.config.execution_class == "FLEX")] += hours
        return usage

    def jobs(self, savings_plan: set[str], over_budget: str | None) -> None:
        for job in sorted([*self.fleet.jobs, *self.fleet.deleted.values()], key=lambda j: j.key):
            factor = OVER_BUDGET_FACTOR if job.key == over_budget else 1.0
            arn = _arn("job", job.name, job.account_id, job.region)
            for (slot, flex), hours in sorted(self.job_usage(job).items()):
                execution = "FLEX" if flex else "STANDARD"
                usage_type = _usage_type(job.region, "ETL-Flex-DPU-Hour" if flex else "ETL-DPU-Hour")
                cost = hours * factor * PRICE_PER_DPU_HOUR[execution]
                covered = job.key in savings_plan and slot.day % 2 == 0
                line_type = "SavingsPlanCoveredUsage" if covered else "Usage"
                self.add("job", job.key, _line(job.account_id, job.region, slot, self.hours, line_type, usage_type,
                                               "JobRun", arn, hours * factor, cost,
                                               f"AWS Glue {execution} DPU-hours", self.rng))
                if covered:
                    self.add("job", job.key, _line(job.account_id, job.region, slot, self.hours,
                                                   "SavingsPlanNegation", usage_type, "JobRun", arn, 0.0, -cost,
                                                   "Savings Plan covered usage", self.rng))

    @property
    def hours(self) -> int:
        return 1 if self.hourly else 24

    def days(self) -> Iterator[datetime]:
        day = self.start
        while day.date() <= self.now.date():
            yield day
            day += timedelta(days=1)

    def not_jobs(self) -> dict[str, Any]:
        account, region = self.fleet.account_id, DEFAULT_REGION
        deleted_key = f"{account}/{region}/{DELETED_JOB}"
        deleted = _arn("job", DELETED_JOB, account, region)
        for day in self.days():
            crawler = _arn("crawler", CRAWLER, account, region)
            self.add("crawler", None, _line(account, region, day, 24, "Usage", _usage_type(region, "Crawler-DPU-Hour"),
                                            "CrawlerRun", crawler, 0.3667, 0.3667 * 0.44, "Crawler DPU-hours",
                                            self.rng))
            if day.day == 1:
                self.add("catalog", None, _line(account, region, day, 24, "Usage",
                                                _usage_type(region, "Catalog-Storage"), "Storage", "", 1_150_000,
                                                CATALOG_USD, "Data Catalog objects over the free tier", self.rng))
                self.add("tax", None, _line(account, "", day, 24, "Tax", "", "", "", 0.0, TAX_USD, "Tax",
                                            self.rng))
            if (self.now - day).days in (3, 4):
                session = _arn("session", SESSION, account, region)
                self.add("session", None, _line(account, region, day, 24, "Usage",
                                                _usage_type(region, "GlueInteractiveSession-DPU-Hour"),
                                                "GlueInteractiveSession", session, 2.5, 2.5 * 0.44,
                                                "Interactive session DPU-hours", self.rng))
            if (self.now - day).days in (6, 9, 12, 15, 18):
                self.add("job", deleted_key, _line(account, region, day, 24, "Usage",
                                                   _usage_type(region, "ETL-DPU-Hour"), "JobRun", deleted, 2.2,
                                                   2.2 * 0.44, "AWS Glue STANDARD DPU-hours", self.rng))
            if (self.now - day).days == 10:
                self.add("credit", None, _line(account, "", day, 24, "Credit", "", "", "", 0.0, CREDIT_USD,
                                               "AWS Promotional credit", self.rng))
        return {"deleted_job": deleted_key, "crawler": CRAWLER, "session": SESSION}


def _planted_jobs(fleet: Fleet, now: datetime) -> tuple[str | None, set[str]]:
    """The job billed far above its estimate and the two whose usage a Savings Plan partly covers: active
    STANDARD glueetl jobs of the default Region with runs in the last 30 days, of accounts the inventory reaches,
    the costliest first."""
    window = (now - timedelta(days=30)).timestamp()
    # In an Organization, jobs of accounts the inventory does not reach are billed too ("not in the inventory");
    # the planted differences go to jobs it does reach.
    reached = ({account.account_id for account in fleet.organization.inventoried()} if fleet.organization
               else {fleet.account_id})
    eligible = [job for job in fleet.jobs if job.account_id in reached and job.region == DEFAULT_REGION
                and job.command["Name"] == "glueetl"
                and job.config.execution_class == "STANDARD" and job.profile.status == "active"
                and any(run.started >= window for run in job.runs)]
    ranked = sorted(eligible, key=lambda job: (-sum(run_dpu_hours(r, "glueetl") for r in job.runs
                                                   if r.started >= window), job.key))
    over_budget = ranked[0].key if ranked else None
    return over_budget, {job.key for job in ranked[1:3]}


def build_cur_export(fleet: Fleet, now: datetime | None = None, *, hourly: bool = False,
                     seed: int | None = None) -> tuple[list[dict[str, Any]], CurExport]:
    """The export's Glue line items (rows of SCHEMA) and its description, not yet written."""
    now = now or fleet.now
    writer = _Writer(fleet, now, hourly, fleet.seed if seed is None else seed)
    over_budget, savings_plan = _planted_jobs(fleet, now)
    writer.jobs(savings_plan, over_budget)
    planted = writer.not_jobs()
    planted.update(over_budget=over_budget, savings_plan=sorted(savings_plan), credit_usd=CREDIT_USD)
    bucket = f"cur-exports-{fleet.account_id}"
    return writer.lines, CurExport(bucket=bucket, uri=f"s3://{bucket}/{PREFIX}/", glue_lines=writer.glue,
                                   planted=planted)


def other_services(count: int, account_id: str, days: list[datetime], seed: int) -> pa.Table:
    """`count` line items of other services (S3, EC2, CloudWatch) spread over `days`, built column by column:
    a benchmark asks for millions."""
    rng = np.random.default_rng(seed)
    product = rng.integers(0, len(OTHER_PRODUCTS), count)
    day = rng.integers(0, len(days), count)
    amount = rng.uniform(1, 500, count)
    starts = np.array([d.replace(tzinfo=None) for d in days], dtype="datetime64[ms]")[day]

    def pick(column: int) -> pa.Array:
        return pa.array([p[column] for p in OTHER_PRODUCTS]).take(pa.array(product))

    text = pa.array([account_id] * count, pa.string())
    columns = {
        "bill_billing_period_start_date": pa.array(starts.astype("datetime64[M]").astype("datetime64[ms]"), _TIME),
        "bill_payer_account_id": text, "cost_category": pa.nulls(count, _MAP),
        "identity_line_item_id": pc.cast(pa.array(rng.integers(0, 2**62, count)), pa.string()),
        "identity_time_interval": pa.nulls(count, pa.string()), "line_item_line_item_description": pick(0),
        "line_item_line_item_type": pa.array(["Usage"] * count, pa.string()),
        "line_item_net_unblended_cost": pa.nulls(count, pa.float64()), "line_item_operation": pick(2),
        "line_item_product_code": pick(0),
        "line_item_resource_id": pc.cast(pa.array(rng.integers(0, 997, count)), pa.string()),
        "line_item_unblended_cost": pa.array(amount * np.array([p[3] for p in OTHER_PRODUCTS])[product]),
        "line_item_usage_account_id": text, "line_item_usage_amount": pa.array(amount),
        "line_item_usage_end_date": pa.array(starts + np.timedelta64(1, "D"), _TIME),
        "line_item_usage_start_date": pa.array(starts, _TIME), "line_item_usage_type": pick(1),
        "product": pa.nulls(count, _MAP), "product_region_code": pa.array([DEFAULT_REGION] * count, pa.string()),
        "resource_tags": pa.nulls(count, _MAP),
    }
    return pa.table(columns, schema=SCHEMA)


def parquet_files(lines: list[dict[str, Any]], others: pa.Table | None = None, files_per_period: int = 2,
                  row_group_rows: int = 10_000, shuffle: bool = False, seed: int = 0) -> dict[str, tuple[bytes, int]]:
    """Parquet objects (key under the export → bytes, line items) of the lines, per billing period.

    Rows are ordered by product code unless `shuffle`: row-group statistics then let a reader skip other
    services, as they do in large real exports only by chance.
    """
    tables = [pa.Table.from_pylist(lines, schema=SCHEMA)] + ([others] if others is not None else [])
    table = pa.concat_tables(tables)
    periods = pc.strftime(table.column("bill_billing_period_start_date"), "%Y-%m")
    objects = {}
    for period in sorted(set(periods.to_pylist())):
        rows = table.filter(pc.equal(periods, period))
        if shuffle:
            rows = rows.take(pa.array(np.random.default_rng(seed).permutation(rows.num_rows)))
        else:
            rows = rows.sort_by([("line_item_product_code", "ascending"), ("line_item_usage_start_date", "ascending")])
        size = -(-rows.num_rows // files_per_period)
        for index in range(files_per_period):
            part = rows.slice(index * size, size)
            if not part.num_rows:
                continue
            sink = io.BytesIO()
            pq.write_table(part, sink, row_group_size=row_group_rows, compression="snappy")
            key = f"data/BILLING_PERIOD={period}/{EXPORT_NAME}-{index + 1:05d}.snappy.parquet"
            objects[key] = (sink.getvalue(), part.num_rows)
    return objects


def write_cur_export(fleet: Fleet, now: datetime | None = None, *, hourly: bool = False, other_line_items: int = 300,
                     files_per_period: int = 2, row_group_rows: int = 10_000, shuffle: bool = False) -> CurExport:
    """Build the fleet's export and put it into the fleet account's S3 (moto), with a manifest per period.
    Other services' line items fall on the days a reader of the last 35 days reads."""
    now = now or fleet.now
    lines, export = build_cur_export(fleet, now, hourly=hourly)
    days = [now - timedelta(days=offset) for offset in range(35)]
    others = other_services(other_line_items, fleet.account_id, days, fleet.seed)
    s3 = s3_backends[fleet.account_id]["aws"]
    if export.bucket not in s3.buckets:
        s3.create_bucket(export.bucket, DEFAULT_REGION)
    root = f"{PREFIX}/{EXPORT_NAME}"
    manifests: dict[str, list[str]] = defaultdict(list)
    for key, (data, rows) in parquet_files(lines, others, files_per_period, row_group_rows, shuffle,
                                           fleet.seed).items():
        s3.put_object(export.bucket, f"{root}/{key}", data)
        export.objects[f"{root}/{key}"] = rows
        manifests[key.split("/")[1]].append(f"s3://{export.bucket}/{root}/{key}")
    for partition, data_files in manifests.items():
        manifest = {"exportName": EXPORT_NAME, "dataFiles": data_files, "columns": SCHEMA.names}
        s3.put_object(export.bucket, f"{root}/metadata/{partition}/{EXPORT_NAME}-Manifest.json",
                      json.dumps(manifest).encode("utf-8"))
    return export
