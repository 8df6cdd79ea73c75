"""The Cost and Usage Report as data: its column names, its billing-period folders, and Glue line items
summed per resource, day, operation, usage type and line item type (pyarrow tables in, rows out).

Two exports are read, both Parquet:
- AWS Data Exports "CUR 2.0": `<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/*.parquet`, snake_case
  columns (`line_item_product_code`, `product_region_code`, …);
- a legacy CUR with Athena integration: `<prefix>/<report>/<report>/year=YYYY/month=M/*.parquet`, the
  same snake_case names; its CSV header names (`lineItem/ProductCode`) are accepted too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where line items are summed: pyarrow costs every process a second at start-up
    import pyarrow as pa

# AWS CUR data dictionary: line_item_product_code of AWS Glue.
GLUE_PRODUCT_CODE = "AWSGlue"
# The periods read: every billing period overlapping this many days before now (AWS restates the current
# month several times a day and the previous one for up to two weeks after it closes).
READ_DAYS = 35

# canonical name → required. The canonical names are CUR 2.0's.
COLUMNS: dict[str, bool] = {
    "line_item_product_code": True,
    "line_item_line_item_type": True,
    "line_item_usage_start_date": True,
    "line_item_usage_type": True,
    "line_item_operation": True,
    "line_item_resource_id": True,
    "line_item_usage_amount": True,
    "line_item_unblended_cost": True,
    "line_item_net_unblended_cost": False,  # only in exports of accounts with discounts
    "line_item_usage_account_id": False,  # the resource ARN names the account when this is absent
}
# The Region: CUR 2.0 `product_region_code`, legacy `product_region` (the ARN has it too).
REGION_COLUMNS = ("product_region_code", "product_region")
# The key of `job_billed_costs`; account and Region come with the resource.
_KEYS = ("billing_period", "resource_id", "usage_date", "operation", "usage_type", "line_item_type")
_AGGREGATES = (("account_id", "max"), ("region", "max"), ("usage_amount", "sum"), ("unblended_cost_usd", "sum"),
               ("net_cost_usd", "sum"))
NO_RESOURCE = "(no resource) "
# Partial sums kept before they are merged again: bounds memory whatever the export's size.
COMPACT_ROWS = 200_000

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_CUR2_PERIOD = re.compile(r"/BILLING_PERIOD=(\d{4})-(\d{2})/")
_LEGACY_PERIOD = re.compile(r"/year=(\d{4})/month=(\d{1,2})/")


class CurSchemaError(ValueError):
    """A Parquet file is not a Cost and Usage Report the reader understands; the message says what is missing."""


def canonical_column(name: str) -> str:
    """`lineItem/ProductCode` and `line_item_product_code` both as `line_item_product_code`."""
    return "_".join(_CAMEL.sub("_", part).lower() for part in name.split("/"))


def resolve_columns(names: Iterable[str]) -> dict[str, str]:
    """canonical name → the file's own column name, for the columns the reader needs; raises CurSchemaError."""
    found: dict[str, str] = {}
    for name in names:
        found.setdefault(canonical_column(name), name)
    missing = [column for column, required in COLUMNS.items() if required and column not in found]
    if missing:
        hint = (" — turn on 'Include resource IDs' in the export" if missing == ["line_item_resource_id"]
                else " — is this a CUR 2.0 or legacy CUR export in Parquet?")
        raise CurSchemaError(f"missing column(s) {', '.join(missing)}{hint}")
    wanted = {column: found[column] for column in COLUMNS if column in found}
    region = next((column for column in REGION_COLUMNS if column in found), None)
    if region:
        wanted["region"] = found[region]
    return wanted


@dataclass(frozen=True)
class ExportFile:
    """One Parquet object of the export: its path (bucket/key), size and when it was written."""

    path: str
    size: int
    modified: datetime | None


def billing_period(path: str) -> str | None:
    """`YYYY-MM` from a CUR 2.0 `BILLING_PERIOD=` or a legacy `year=/month=` folder, else None."""
    match = _CUR2_PERIOD.search(path) or _LEGACY_PERIOD.search(path)
    return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}" if match else None


def _export_root(path: str) -> str:
    match = _CUR2_PERIOD.search(path) or _LEGACY_PERIOD.search(path)
    root = path[:match.start()] if match else path
    return root.removesuffix("/data")


def periods_to_read(now: datetime, days: int = READ_DAYS) -> list[str]:
    """Every `YYYY-MM` from the month `days` before `now` to the month of `now`."""
    first = (now - timedelta(days=days)).date().replace(day=1)
    periods, month = [], first
    while month <= now.date():
        periods.append(f"{month.year:04d}-{month.month:02d}")
        month = (month + timedelta(days=32)).replace(day=1)
    return periods


def files_by_period(files: Sequence[ExportFile], periods: Iterable[str]) -> dict[str, list[ExportFile]]:
    """The current delivery of each wanted period; raises ValueError when the URI holds several exports.

    An export that keeps every delivery ("create new" rather than "overwrite") puts each in a folder of its
    own under the period: only the newest folder is the period's current data.
    """
    wanted = set(periods)
    roots = sorted({_export_root(f.path) for f in files if billing_period(f.path)})
    if len(roots) > 1:
        raise ValueError(f"billing.cur_uri holds {len(roots)} exports ({', '.join(roots[:3])}) — point it at "
                         "one of them")
    deliveries: dict[str, dict[str, list[ExportFile]]] = {}
    for file in files:
        period = billing_period(file.path)
        if period in wanted:
            folder = file.path.rsplit("/", 1)[0]
            deliveries.setdefault(period, {}).setdefault(folder, []).append(file)
    def written(item: tuple[str, list[ExportFile]]) -> tuple[float, str]:
        folder, group = item
        return max((f.modified.timestamp() if f.modified else 0.0) for f in group), folder

    return {period: sorted(max(folders.items(), key=written)[1], key=lambda f: f.path)
            for period, folders in deliveries.items()}


def row_group_may_hold(minimum: object, maximum: object, value: str = GLUE_PRODUCT_CODE) -> bool:
    """From a row group's statistics: False only when the product code column cannot hold `value`."""
    if not isinstance(minimum, str) or not isinstance(maximum, str):
        return True
    return minimum <= value <= maximum


def _text(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.fill_null(pc.cast(column, pa.string()), "")


def _money(column: pa.ChunkedArray | pa.Array, name: str) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(column, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise CurSchemaError(f"column {name} is not a number ({column.type}): {exc}") from None


def _usage_date(column: pa.ChunkedArray | pa.Array, name: str) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pc.utf8_slice_codeunits(column, 0, 10)
        return pc.cast(column, pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise CurSchemaError(f"column {name} is not a date ({column.type}): {exc}") from None


def glue_line_items(batch: pa.RecordBatch | pa.Table, columns: Mapping[str, str], period: str) -> pa.Table:
    """The batch's Glue line items, summed per key (_KEYS); `columns` comes from `resolve_columns`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    product = batch.column(columns["line_item_product_code"])
    table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
    table = table.filter(pc.equal(product, GLUE_PRODUCT_CODE))
    rows = table.num_rows

    def text(canonical: str) -> pa.Array:
        name = columns.get(canonical)
        return _text(table.column(name)) if name else pa.array([""] * rows, pa.string())

    net_name = columns.get("line_item_net_unblended_cost")
    account, region = text("line_item_usage_account_id"), text("region")
    resource = text("line_item_resource_id")
    # Line items without a resource (credits, tax, some Data Catalog charges) are kept apart per account and
    # Region: the table's key has no account column.
    stand_in = pc.binary_join_element_wise(NO_RESOURCE, pc.if_else(pc.equal(account, ""), "-", account), "/",
                                           pc.if_else(pc.equal(region, ""), "-", region), "")
    resolved = pa.table({
        "billing_period": pa.array([period] * rows, pa.string()),
        "resource_id": pc.if_else(pc.equal(resource, ""), stand_in, resource),
        "account_id": account,
        "region": region,
        "usage_date": _usage_date(table.column(columns["line_item_usage_start_date"]), "line_item_usage_start_date"),
        "operation": text("line_item_operation"),
        "usage_type": text("line_item_usage_type"),
        "line_item_type": text("line_item_line_item_type"),
        "usage_amount": pc.fill_null(_money(table.column(columns["line_item_usage_amount"]),
                                            "line_item_usage_amount"), 0.0),
        "unblended_cost_usd": pc.fill_null(_money(table.column(columns["line_item_unblended_cost"]),
                                                  "line_item_unblended_cost"), 0.0),
        "net_cost_usd": _money(table.column(net_name), net_name) if net_name else pa.nulls(rows, pa.float64()),
    })
    return _summed(resolved)


def _summed(table: pa.Table) -> pa.Table:
    summed = table.group_by(list(_KEYS)).aggregate(list(_AGGREGATES))
    return summed.rename_columns([name.removesuffix("_sum").removesuffix("_max") for name in summed.column_names])


class LineItemSums:
    """Glue line items of many batches summed per key, merged as they come so memory stays bounded."""

    def __init__(self) -> None:
        self._parts: list[pa.Table] = []
        self._rows = 0

    def add(self, summed: pa.Table) -> None:
        import pyarrow as pa

        if summed.num_rows:
            self._parts.append(summed)
            self._rows += summed.num_rows
        if self._rows > COMPACT_ROWS and len(self._parts) > 1:
            merged = _summed(pa.concat_tables(self._parts))
            self._parts, self._rows = [merged], merged.num_rows

    def rows(self) -> list[dict]:
        """One dict per key of `job_billed_costs`."""
        import pyarrow as pa

        return _summed(pa.concat_tables(self._parts)).to_pylist() if self._parts else []
