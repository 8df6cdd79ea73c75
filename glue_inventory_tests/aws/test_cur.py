"""The export in S3 (moto): listing, access errors in one line, only the row groups that can hold Glue decoded."""

import io
from datetime import UTC, datetime

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glue_inventory.analysis.cost.cur_lines import CurSchemaError, ExportFile
from glue_inventory.aws.clients import PlatformSession
from glue_inventory.aws.cur import CurExportError, ScanStats, export_filesystem, line_item_batches, list_export
from glue_inventory.config import PlatformConfig
from glue_inventory.simulate import Fault, build_fleet, start_simulator
from glue_inventory.simulate.cur import other_services, parquet_files

ACCOUNT = "456789012345"
BUCKET = "cur-test-exports"


@pytest.fixture(scope="module")
def sim():
    with start_simulator(build_fleet(3, 5, datetime.now(UTC), account_id=ACCOUNT)) as sim:
        yield sim


@pytest.fixture
def s3(sim):
    env = sim.env()
    client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key="testing")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def fs(sim, monkeypatch):
    for name, value in sim.env().items():
        monkeypatch.setenv(name, value)
    return export_filesystem(PlatformSession(PlatformConfig(name="billing", regions=["us-east-1"],
                                                            endpoint_url=sim.endpoint_url), "us-east-1"))


def _put(s3, key: str, table: pa.Table, row_group_size: int = 1000) -> None:
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=row_group_size)
    s3.put_object(Bucket=BUCKET, Key=key, Body=sink.getvalue())


def test_listing_finds_the_parquet_objects_only(fs, s3):
    s3.put_object(Bucket=BUCKET, Key="cur/x/metadata/BILLING_PERIOD=2026-11/x-Manifest.json", Body=b"{}")
    _put(s3, "cur/x/data/BILLING_PERIOD=2026-11/x-00001.snappy.parquet", pa.table({"a": [1]}))
    files = list_export(fs, f"s3://{BUCKET}/cur/")
    assert [f.path for f in files] == [f"{BUCKET}/cur/x/data/BILLING_PERIOD=2026-11/x-00001.snappy.parquet"]
    assert files[0].size > 0 and files[0].modified is not None


def test_a_missing_bucket_and_a_denied_listing_are_one_line_errors(fs, sim, s3):
    with pytest.raises(CurExportError, match=r"^billing.cur_uri s3://no-such-bucket-here/cur/: no such bucket"):
        list_export(fs, "s3://no-such-bucket-here/cur/")
    fault = sim.inject(Fault("ListObjects", code="AccessDenied", status=403, message="Access Denied"))
    try:
        with pytest.raises(CurExportError, match="access denied .* grant s3:ListBucket on the export bucket"):
            list_export(fs, f"s3://{BUCKET}/cur/")
    finally:
        sim.clear_faults()
    assert fault.hits >= 1


def test_only_row_groups_that_can_hold_glue_are_decoded(fs, s3):
    """Sorted by product code, the row groups of other services are skipped on their statistics."""
    day = datetime(2026, 11, 10, tzinfo=UTC)
    others = other_services(5000, ACCOUNT, [day], seed=3)
    glue = [{**row, "line_item_product_code": "AWSGlue"} for row in others.slice(0, 10).to_pylist()]
    [(key, (data, rows))] = parquet_files(glue, others, files_per_period=1, row_group_rows=500).items()
    s3.put_object(Bucket=BUCKET, Key=f"sorted/{key}", Body=data)
    file = next(f for f in list_export(fs, f"s3://{BUCKET}/sorted/"))
    stats = ScanStats()
    batches = list(line_item_batches(fs, file, stats))
    assert stats.row_groups_skipped >= 8 and stats.row_groups <= 2
    assert stats.rows < rows / 4 and sum(batch.num_rows for _, batch in batches) == stats.rows
    product = batches[0][0]["line_item_product_code"]
    assert sum(batch.column(product).to_pylist().count("AWSGlue") for _, batch in batches) == 10


def test_a_file_that_is_not_a_cur_or_not_parquet(fs, s3):
    _put(s3, "bad/data/BILLING_PERIOD=2026-11/a.parquet", pa.table({"cost": [1.0]}))
    s3.put_object(Bucket=BUCKET, Key="bad/data/BILLING_PERIOD=2026-11/b.parquet", Body=b"not parquet at all")
    files = {f.path.rsplit("/", 1)[1]: f for f in list_export(fs, f"s3://{BUCKET}/bad/")}
    with pytest.raises(CurSchemaError, match="missing column"):
        list(line_item_batches(fs, files["a.parquet"], ScanStats()))
    with pytest.raises(CurExportError, match="b.parquet: not a readable Parquet file"):
        list(line_item_batches(fs, files["b.parquet"], ScanStats()))
    with pytest.raises(CurExportError, match="missing.parquet: gone while it was read"):
        list(line_item_batches(fs, ExportFile(f"{BUCKET}/bad/missing.parquet", 0, None), ScanStats()))
