"""The CUR as data: column names of CUR 2.0 and legacy exports, billing-period folders, Glue line items summed."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glue_inventory.analysis.cost import cur_lines as cur
from glue_inventory.analysis.cost.cur_lines import (
    CurSchemaError,
    ExportFile,
    LineItemSums,
    billing_period,
    canonical_column,
    files_by_period,
    glue_line_items,
    periods_to_read,
    resolve_columns,
    row_group_may_hold,
)

JOB = "arn:aws:glue:us-east-1:111122223333:job/orders/daily"


@pytest.mark.parametrize(("name", "canonical"), [
    ("line_item_product_code", "line_item_product_code"),
    ("lineItem/ProductCode", "line_item_product_code"),
    ("lineItem/LineItemType", "line_item_line_item_type"),
    ("lineItem/NetUnblendedCost", "line_item_net_unblended_cost"),
    ("bill/BillingPeriodStartDate", "bill_billing_period_start_date"),
    ("product/region", "product_region"),
    ("product/regionCode", "product_region_code"),
    ("lineItem/UsageAccountId", "line_item_usage_account_id"),
])
def test_canonical_column_names(name, canonical):
    assert canonical_column(name) == canonical


CUR2 = ["bill_billing_period_start_date", "line_item_product_code", "line_item_line_item_type",
        "line_item_usage_start_date", "line_item_usage_type", "line_item_operation", "line_item_resource_id",
        "line_item_usage_amount", "line_item_unblended_cost", "line_item_net_unblended_cost",
        "line_item_usage_account_id", "product", "product_region_code"]
LEGACY = ["lineItem/ProductCode", "lineItem/LineItemType", "lineItem/UsageStartDate", "lineItem/UsageType",
          "lineItem/Operation", "lineItem/ResourceId", "lineItem/UsageAmount", "lineItem/UnblendedCost",
          "lineItem/UsageAccountId", "product/region"]


def test_resolve_columns_of_cur2_and_legacy_exports():
    columns = resolve_columns(CUR2)
    assert columns["line_item_product_code"] == "line_item_product_code"
    assert columns["region"] == "product_region_code"
    assert columns["line_item_net_unblended_cost"] == "line_item_net_unblended_cost"
    legacy = resolve_columns(LEGACY)
    assert legacy["line_item_resource_id"] == "lineItem/ResourceId"
    assert legacy["region"] == "product/region"
    assert "line_item_net_unblended_cost" not in legacy


def test_resolve_columns_names_what_is_missing_and_the_fix():
    with pytest.raises(CurSchemaError, match="line_item_resource_id — turn on 'Include resource IDs'"):
        resolve_columns([name for name in CUR2 if name != "line_item_resource_id"])
    with pytest.raises(CurSchemaError, match="line_item_product_code, line_item_unblended_cost .* Parquet"):
        resolve_columns(["identity_line_item_id", "line_item_line_item_type", "line_item_usage_start_date",
                         "line_item_usage_type", "line_item_operation", "line_item_resource_id",
                         "line_item_usage_amount"])


@pytest.mark.parametrize(("path", "period"), [
    ("b/cur/exp/data/BILLING_PERIOD=2026-11/exp-00001.snappy.parquet", "2026-11"),
    ("b/cur/exp/data/BILLING_PERIOD=2026-11/20261115T0300Z-abc/exp-00001.snappy.parquet", "2026-11"),
    ("b/cur/report/report/year=2026/month=3/report-00001.snappy.parquet", "2026-03"),
    ("b/cur/exp/metadata/BILLING_PERIOD=2026-11/exp-Manifest.json", "2026-11"),
    ("b/cur/other/file.parquet", None),
])
def test_billing_period_of_a_path(path, period):
    assert billing_period(path) == period


@pytest.mark.parametrize(("now", "periods"), [
    (datetime(2026, 12, 1, 8, tzinfo=UTC), ["2026-10", "2026-11", "2026-12"]),
    (datetime(2026, 3, 15, tzinfo=UTC), ["2026-02", "2026-03"]),
    (datetime(2026, 1, 20, tzinfo=UTC), ["2025-12", "2026-01"]),
    (datetime(2026, 2, 28, tzinfo=UTC), ["2026-01", "2026-02"]),
])
def test_periods_overlapping_the_last_35_days(now, periods):
    assert periods_to_read(now) == periods


def _file(path: str, hour: int = 0) -> ExportFile:
    return ExportFile(path, 10, datetime(2026, 11, 20, hour, tzinfo=UTC))


def test_files_by_period_takes_the_newest_delivery_of_each_wanted_period():
    root = "b/cur/exp/data"
    files = [_file(f"{root}/BILLING_PERIOD=2026-10/exp-00001.snappy.parquet"),
             _file(f"{root}/BILLING_PERIOD=2026-11/run-a/exp-00001.snappy.parquet", hour=1),
             _file(f"{root}/BILLING_PERIOD=2026-11/run-a/exp-00002.snappy.parquet", hour=1),
             _file(f"{root}/BILLING_PERIOD=2026-11/run-b/exp-00001.snappy.parquet", hour=5),
             _file(f"{root}/BILLING_PERIOD=2026-09/exp-00001.snappy.parquet")]
    chosen = files_by_period(files, ["2026-10", "2026-11"])
    assert {period: [f.path for f in group] for period, group in chosen.items()} == {
        "2026-10": [f"{root}/BILLING_PERIOD=2026-10/exp-00001.snappy.parquet"],
        "2026-11": [f"{root}/BILLING_PERIOD=2026-11/run-b/exp-00001.snappy.parquet"],
    }


def test_several_exports_under_one_uri_are_refused():
    files = [_file("b/cur/a/data/BILLING_PERIOD=2026-11/a-00001.snappy.parquet"),
             _file("b/cur/b/data/BILLING_PERIOD=2026-11/b-00001.snappy.parquet")]
    with pytest.raises(ValueError, match="holds 2 exports .*point it at one of them"):
        files_by_period(files, ["2026-11"])


@pytest.mark.parametrize(("low", "high", "holds"), [
    ("AWSGlue", "AWSGlue", True), ("AWSCloudTrail", "AmazonS3", True), ("AmazonEC2", "AmazonS3", False),
    ("AWSLambda", "AWSSecretsManager", False), (None, None, True), (b"AWS", b"Amazon", True),
])
def test_row_group_statistics_decide_whether_to_read(low, high, holds):
    assert row_group_may_hold(low, high) is holds


def _batch(rows: list[dict], schema: pa.Schema | None = None) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


def _row(**values) -> dict:
    row = {"line_item_product_code": "AWSGlue", "line_item_line_item_type": "Usage",
           "line_item_usage_start_date": datetime(2026, 11, 3, 5, tzinfo=UTC),
           "line_item_usage_type": "USE1-ETL-DPU-Hour", "line_item_operation": "JobRun",
           "line_item_resource_id": JOB, "line_item_usage_amount": 1.5, "line_item_unblended_cost": 0.66,
           "line_item_usage_account_id": "111122223333", "product_region_code": "us-east-1"}
    return row | values


def test_glue_line_items_are_summed_per_resource_day_and_type():
    table = _batch([
        _row(), _row(line_item_usage_start_date=datetime(2026, 11, 3, 23, tzinfo=UTC)),
        _row(line_item_usage_start_date=datetime(2026, 11, 4, tzinfo=UTC)),
        _row(line_item_line_item_type="SavingsPlanCoveredUsage"),
        _row(line_item_product_code="AmazonS3", line_item_unblended_cost=99.0),
        _row(line_item_resource_id=None, line_item_line_item_type="Credit", line_item_usage_type="",
             line_item_operation="", line_item_unblended_cost=-10.0, product_region_code=None),
        _row(line_item_resource_id="", line_item_line_item_type="Credit", line_item_usage_type="",
             line_item_operation="", line_item_unblended_cost=-5.0, line_item_usage_account_id="444455556666",
             product_region_code=None),
    ])
    rows = glue_line_items(table, resolve_columns(table.column_names), "2026-11")
    by_key = {(r["resource_id"], r["usage_date"], r["line_item_type"]): r for r in rows.to_pylist()}
    assert by_key[(JOB, date(2026, 11, 3), "Usage")]["usage_amount"] == 3.0
    assert by_key[(JOB, date(2026, 11, 3), "Usage")]["unblended_cost_usd"] == pytest.approx(1.32)
    assert by_key[(JOB, date(2026, 11, 4), "Usage")]["unblended_cost_usd"] == pytest.approx(0.66)
    assert by_key[(JOB, date(2026, 11, 3), "SavingsPlanCoveredUsage")]["usage_amount"] == 1.5
    # No resource: one stand-in per account and Region, never mixed across accounts.
    assert by_key[("(no resource) 111122223333/-", date(2026, 11, 3), "Credit")]["unblended_cost_usd"] == -10.0
    assert by_key[("(no resource) 444455556666/-", date(2026, 11, 3), "Credit")]["unblended_cost_usd"] == -5.0
    assert all(r["net_cost_usd"] is None for r in rows.to_pylist())  # no net column in this export
    assert len(rows) == 5 and all(r["billing_period"] == "2026-11" for r in rows.to_pylist())


def test_legacy_names_text_dates_and_decimal_costs_are_read():
    schema = pa.schema([("lineItem/ProductCode", pa.string()), ("lineItem/LineItemType", pa.string()),
                        ("lineItem/UsageStartDate", pa.string()), ("lineItem/UsageType", pa.string()),
                        ("lineItem/Operation", pa.string()), ("lineItem/ResourceId", pa.string()),
                        ("lineItem/UsageAmount", pa.decimal128(20, 10)),
                        ("lineItem/UnblendedCost", pa.decimal128(20, 10)),
                        ("lineItem/NetUnblendedCost", pa.decimal128(20, 10))])
    table = pa.table({"lineItem/ProductCode": ["AWSGlue"], "lineItem/LineItemType": ["Usage"],
                      "lineItem/UsageStartDate": ["2026-11-05T13:00:00Z"], "lineItem/UsageType": ["USE1-ETL-DPU-Hour"],
                      "lineItem/Operation": ["JobRun"], "lineItem/ResourceId": [JOB],
                      "lineItem/UsageAmount": [Decimal("2.5")], "lineItem/UnblendedCost": [Decimal("1.1")],
                      "lineItem/NetUnblendedCost": [Decimal("1.0")]}, schema=schema)
    [row] = glue_line_items(table, resolve_columns(table.column_names), "2026-11").to_pylist()
    assert row["usage_date"] == date(2026, 11, 5)
    assert (row["usage_amount"], row["unblended_cost_usd"], row["net_cost_usd"]) == (2.5, 1.1, 1.0)
    assert row["account_id"] == "" and row["region"] == ""  # the ARN has them


def test_a_cost_column_that_is_not_a_number_is_a_schema_error():
    table = _batch([_row(line_item_unblended_cost="twelve dollars")])
    with pytest.raises(CurSchemaError, match="line_item_unblended_cost is not a number"):
        glue_line_items(table, resolve_columns(table.column_names), "2026-11")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.sampled_from(["Usage", "Credit"]), st.integers(0, 400)),
                min_size=1, max_size=60),
       st.lists(st.integers(1, 20), min_size=1, max_size=8))
def test_line_item_sums_do_not_depend_on_how_the_export_is_split(items, cuts):
    rows = [_row(line_item_usage_start_date=datetime(2026, 11, day, tzinfo=UTC), line_item_line_item_type=kind,
                 line_item_unblended_cost=cents / 100) for day, kind, cents in items]
    table = _batch(rows)
    columns = resolve_columns(table.column_names)
    whole = LineItemSums()
    whole.add(glue_line_items(table, columns, "2026-11"))
    split, start = LineItemSums(), 0
    for size in cuts * len(rows):
        if start >= len(rows):
            break
        split.add(glue_line_items(table.slice(start, size), columns, "2026-11"))
        start += size

    def key(row):
        return row["usage_date"], row["line_item_type"]

    expected = sorted(whole.rows(), key=key)
    assert [key(r) for r in sorted(split.rows(), key=key)] == [key(r) for r in expected]
    for got, want in zip(sorted(split.rows(), key=key), expected, strict=True):
        assert got["unblended_cost_usd"] == pytest.approx(want["unblended_cost_usd"], abs=1e-9)


def test_line_item_sums_merge_parts_to_stay_bounded(monkeypatch):
    monkeypatch.setattr(cur, "COMPACT_ROWS", 2)
    sums = LineItemSums()
    table = _batch([_row(line_item_usage_start_date=datetime(2026, 11, day, tzinfo=UTC)) for day in (1, 2, 3)])
    columns = resolve_columns(table.column_names)
    for _ in range(10):
        sums.add(glue_line_items(table, columns, "2026-11"))
    assert len(sums._parts) == 1
    assert sorted(r["usage_amount"] for r in sums.rows()) == [15.0, 15.0, 15.0]
