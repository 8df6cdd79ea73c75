"""The Cost and Usage Report export in S3: its Parquet objects, read through s3fs with a platform's credentials,
only the columns and row groups that can hold Glue line items, a batch at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from glue_inventory.analysis.cost.cur_lines import ExportFile, resolve_columns, row_group_may_hold
from glue_inventory.aws.clients import RETRY_ATTEMPTS, PlatformSession

if TYPE_CHECKING:  # pyarrow and s3fs are imported where the bill is read: a second of every process's start
    import pyarrow as pa
    import pyarrow.parquet as pq
    import s3fs

# Rows decoded at a time: a few MB of the needed columns. Measured on 2,000,000 line items (bench/billing.py):
# 16,384 rows decoded on one thread, with the memory pool released after each file, kept the peak RSS about
# 60 MB lower than 65,536 rows on pyarrow's threads, for the same time on 2 cores.
BATCH_ROWS = 16_384
# Column chunks are read in pieces of this size rather than whole: memory stays bounded however large a row
# group of the export is. s3fs reads ahead as much per request.
BUFFER_BYTES = 1024 * 1024
BLOCK_BYTES = 8 * 1024 * 1024


class CurExportError(Exception):
    """The export cannot be listed or read; the message says what and how to fix it."""


def export_filesystem(session: PlatformSession) -> s3fs.S3FileSystem:
    """s3fs over the session's credentials (an assumed role's included), Region and endpoint."""
    import s3fs

    frozen = session.session().get_credentials()
    frozen = frozen.get_frozen_credentials() if frozen is not None else None
    return s3fs.S3FileSystem(
        key=frozen.access_key if frozen else None, secret=frozen.secret_key if frozen else None,
        token=frozen.token if frozen else None, endpoint_url=session.platform.endpoint_url,
        client_kwargs={"region_name": session.region},
        config_kwargs={"retries": {"mode": "adaptive", "max_attempts": RETRY_ATTEMPTS}},
        skip_instance_cache=True)


def _describe(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def list_export(fs: s3fs.S3FileSystem, uri: str) -> list[ExportFile]:
    """Every Parquet object under `uri` (s3://bucket/prefix/); raises CurExportError."""
    try:
        found = fs.find(uri.removeprefix("s3://"), detail=True)
    except FileNotFoundError:
        raise CurExportError(f"billing.cur_uri {uri}: no such bucket — check the bucket name") from None
    except PermissionError as exc:
        raise CurExportError(f"billing.cur_uri {uri}: access denied ({_describe(exc)}) — grant s3:ListBucket "
                             "on the export bucket (iam/README.md)") from None
    except OSError as exc:
        raise CurExportError(f"billing.cur_uri {uri}: cannot list the export ({_describe(exc)})") from None
    return [ExportFile(path, int(info.get("size") or 0), info.get("LastModified"))
            for path, info in sorted(found.items()) if path.endswith(".parquet")]


@dataclass
class ScanStats:
    """What reading the export took: objects, row groups read and skipped, rows decoded, bytes."""

    files: int = 0
    row_groups: int = 0
    row_groups_skipped: int = 0
    rows: int = 0
    bytes: int = 0


def line_item_batches(fs: s3fs.S3FileSystem, file: ExportFile,
                      stats: ScanStats) -> Iterator[tuple[dict[str, str], pa.RecordBatch]]:
    """(the file's columns by canonical name, a batch) for the row groups whose product code statistics
    allow Glue; raises CurSchemaError for a file that is not a CUR, CurExportError for one that cannot be read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with fs.open(file.path, "rb", block_size=BLOCK_BYTES, cache_type="readahead") as handle:
            parquet = pq.ParquetFile(handle, buffer_size=BUFFER_BYTES)
            columns = resolve_columns(parquet.schema_arrow.names)
            # Statistics are per leaf column: map columns (CUR 2.0's `product`, tags) shift the leaf indexes.
            leaves = parquet.schema
            product = next((i for i in range(len(leaves))
                            if leaves.column(i).path == columns["line_item_product_code"]), -1)
            wanted = [index for index in range(parquet.metadata.num_row_groups)
                      if _may_hold_glue(parquet.metadata.row_group(index), product)]
            stats.files += 1
            stats.bytes += file.size
            stats.row_groups += len(wanted)
            stats.row_groups_skipped += parquet.metadata.num_row_groups - len(wanted)
            if not wanted:
                return
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS, row_groups=wanted,
                                              columns=list(columns.values()), use_threads=False):
                stats.rows += batch.num_rows
                yield columns, batch
        # The pool keeps freed pages for reuse; a file's are not needed for the next one.
        pa.default_memory_pool().release_unused()
    except PermissionError as exc:
        raise CurExportError(f"{file.path}: access denied ({_describe(exc)}) — grant s3:GetObject on the export "
                             "bucket (iam/README.md)") from None
    except FileNotFoundError:
        raise CurExportError(f"{file.path}: gone while it was read (the export was being delivered) — run "
                             "glue_billed_costs again") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise CurExportError(f"{file.path}: not a readable Parquet file ({_describe(exc)})") from None


def _may_hold_glue(row_group: pq.RowGroupMetaData, column: int) -> bool:
    if column < 0:
        return True
    statistics = row_group.column(column).statistics
    if statistics is None or not statistics.has_min_max:
        return True
    return row_group_may_hold(statistics.min, statistics.max)
