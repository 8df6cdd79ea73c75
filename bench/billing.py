"""Benchmark: one `glue_billed_costs` run over a large Cost and Usage Report (2,000,000 line items in several
Parquet files), its time, line items per second and peak RSS, against reading the same files whole.

    .venv/bin/python bench/billing.py [--line-items 2000000] [--jobs 1000] [--database sqlite|postgresql://…]

A simulated fleet (in a child process, with moto's S3) writes a CUR 2.0 export: the fleet's Glue usage by hour
plus other services' line items up to `--line-items` in the billing periods a run reads (the last 35 days),
shuffled so that every row group holds Glue line items and none can be skipped on its statistics (the worst
case). The inventory (`glue_jobs`, `job_preliminary_metrics`) is stored first; then, each in a fresh process
of its own so that its peak RSS is its own:
1. **glue_billed_costs**: the asset, as Dagster runs it (streaming, a batch at a time);
2. **whole-file baseline**: the same needed columns of the same files read at once with
   `pyarrow.parquet.read_table`, then filtered and summed by the same function.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import (
    dagster_log_to,
    latest_metadata,
    log,
    machine,
    print_table,
    ratio,
    results_path,
    throwaway_database,
    write_results,
)

TARGET_RSS_MB = 500


def _rss_mb() -> float:
    """Resident memory now (Linux /proc), in MB."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _serve(conn, jobs: int, seed: int, line_items: int, files_per_period: int, row_group_rows: int) -> None:
    """The simulator with the export in its S3; answers the summary, then serves until told to stop."""
    from glue_inventory.analysis.cost.cur_lines import periods_to_read
    from glue_inventory.simulate import build_fleet, start_simulator
    from glue_inventory.simulate.cur import build_cur_export

    now = datetime.now(UTC)
    fleet = build_fleet(jobs, seed, now)
    read = set(periods_to_read(now))
    glue_lines, _ = build_cur_export(fleet, now, hourly=True)
    glue_read = sum(1 for line in glue_lines if line["bill_billing_period_start_date"].strftime("%Y-%m") in read)
    with start_simulator(fleet) as sim:
        export = sim.write_cur_export(hourly=True, other_line_items=max(0, line_items - glue_read),
                                      files_per_period=files_per_period, row_group_rows=row_group_rows, shuffle=True)
        read_objects = {key: rows for key, rows in export.objects.items()
                        if any(f"BILLING_PERIOD={period}/" in key for period in read)}
        conn.send({"env": sim.env(), "uri": export.uri, "regions": fleet.regions, "objects": len(export.objects),
                   "read_objects": len(read_objects), "read_line_items": sum(read_objects.values()),
                   "glue_line_items_read": glue_read,
                   "paths": sorted(f"{export.bucket}/{key}" for key in read_objects)})
        conn.recv()
    conn.send(None)


def _configure(env: dict[str, str], workdir: Path, regions: list[str], uri: str, database_url: str) -> None:
    config = workdir / "glue_inventory.yaml"
    config.write_text(f"platforms:\n  - name: simulated\n    regions: [{', '.join(regions)}]\n"
                      f"billing:\n  cur_uri: {uri}\n", encoding="utf-8")
    os.environ.update(env | {"GLUE_INVENTORY_CONFIG": str(config), "GLUE_INVENTORY_DATABASE_URL": database_url,
                             "GLUE_INVENTORY_REPORTS_DIR": str(workdir / "reports")})
    os.environ.pop("AWS_PROFILE", None)


def _inventory(env: dict, workdir: Path, regions: list[str], uri: str, database_url: str, log_path: Path) -> None:
    """glue_jobs and every job's preliminary metrics: the jobs and runs the bill is matched with."""
    import dagster as dg

    from glue_inventory.orchestration.automation.runs import RANGE_END, RANGE_START, partition_ranges
    from glue_inventory.pipeline import materialize

    _configure(env, workdir, regions, uri, database_url)
    with dagster_log_to(log_path), dg.DagsterInstance.ephemeral() as instance:
        materialize(instance, ["glue_jobs"])
        keys = instance.get_dynamic_partitions("glue_jobs")
        for start, end in partition_ranges(keys, set(keys)):
            materialize(instance, ["job_preliminary_metrics"], {RANGE_START: start, RANGE_END: end})


def _asset(conn, env: dict, workdir: Path, regions: list[str], uri: str, database_url: str, log_path: Path) -> None:
    import dagster as dg

    from glue_inventory.pipeline import materialize

    _configure(env, workdir, regions, uri, database_url)
    with dagster_log_to(log_path), dg.DagsterInstance.ephemeral() as instance:
        before = _rss_mb()
        started = time.perf_counter()
        materialize(instance, ["glue_billed_costs"])
        seconds = time.perf_counter() - started
        conn.send({"seconds": seconds, "rss_before_mb": before, "peak_rss_mb": _peak_mb(),
                   "metadata": latest_metadata(instance, "glue_billed_costs")})


def _whole_files(conn, env: dict, paths: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import s3fs

    from glue_inventory.analysis.cost.cur_lines import LineItemSums, billing_period, glue_line_items, resolve_columns

    fs = s3fs.S3FileSystem(key=env["AWS_ACCESS_KEY_ID"], secret=env["AWS_SECRET_ACCESS_KEY"],
                           endpoint_url=env["AWS_ENDPOINT_URL"], client_kwargs={"region_name": env["AWS_REGION"]})
    before = _rss_mb()
    started = time.perf_counter()
    sums, rows = LineItemSums(), 0
    columns = resolve_columns(pq.read_schema(paths[0], filesystem=fs).names)
    for period in sorted({billing_period(path) for path in paths}):
        table = pq.read_table([p for p in paths if billing_period(p) == period], filesystem=fs,
                              columns=list(columns.values()))
        rows += table.num_rows
        sums.add(glue_line_items(table, columns, period))
        del table
    stored = len(sums.rows())
    conn.send({"seconds": time.perf_counter() - started, "rss_before_mb": before, "peak_rss_mb": _peak_mb(),
               "rows": rows, "stored": stored, "arrow_pool_mb": pa.total_allocated_bytes() / 1024 / 1024})


def _in_child(target, *args) -> dict:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(child, *args))
    process.start()
    answer = parent.recv()
    process.join()
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--line-items", type=int, default=2_000_000)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--files-per-period", type=int, default=4)
    parser.add_argument("--row-group-rows", type=int, default=100_000)
    parser.add_argument("--database", default="sqlite", help="sqlite (a temp file) or a Postgres server URL")
    parser.add_argument("--skip-baseline", action="store_true", help="do not read the files whole for comparison")
    args = parser.parse_args()
    results = results_path("billing")
    log_path = results.with_suffix(".log")
    context = multiprocessing.get_context("spawn")
    sim_conn, child = context.Pipe()
    started = time.perf_counter()
    simulator = context.Process(target=_serve, args=(child, args.jobs, args.seed, args.line_items,
                                                     args.files_per_period, args.row_group_rows), daemon=True)
    simulator.start()
    export = sim_conn.recv()
    log(f"export: {export['read_line_items']:,} line items in {export['read_objects']} Parquet files of the periods "
        f"read ({export['objects']} in all), {time.perf_counter() - started:.1f}s")
    with tempfile.TemporaryDirectory() as tmp, throwaway_database(args.database, Path(tmp)) as database_url:
        workdir = Path(tmp)
        inventory = context.Process(target=_inventory, args=(export["env"], workdir, export["regions"],
                                                             export["uri"], database_url, log_path))
        inventory.start()
        inventory.join()
        log(f"inventory stored ({args.jobs} jobs), {time.perf_counter() - started:.1f}s")
        asset = _in_child(_asset, export["env"], workdir, export["regions"], export["uri"], database_url, log_path)
        log(f"glue_billed_costs: {asset['seconds']:.1f}s, peak RSS {asset['peak_rss_mb']:.0f} MB")
        baseline = None if args.skip_baseline else _in_child(_whole_files, export["env"], export["paths"])
    sim_conn.send("stop")
    sim_conn.recv()
    simulator.join(timeout=10)

    meta = asset["metadata"]
    read = meta["line_items_read"]
    rows = [["glue_billed_costs (streamed)", read, asset["seconds"], round(read / asset["seconds"]),
             meta["seconds"], asset["rss_before_mb"], asset["peak_rss_mb"]]]
    if baseline:
        rows.append(["whole files (read_table)", baseline["rows"], baseline["seconds"],
                     round(baseline["rows"] / baseline["seconds"]), baseline["seconds"], baseline["rss_before_mb"],
                     baseline["peak_rss_mb"]])
    print_table(f"Reading {read:,} line items ({export['read_objects']} Parquet files, row groups of "
                f"{args.row_group_rows:,}, shuffled; {args.database})",
                ["pass", "line items", "run s", "line items/s", "read s", "RSS before MB", "peak RSS MB"], rows)
    growth = asset["peak_rss_mb"] - asset["rss_before_mb"]
    print(f"\npeak RSS of the run: {asset['peak_rss_mb']:.0f} MB (target < {TARGET_RSS_MB} MB); "
          f"growth while reading {growth:.0f} MB; rows stored {meta['rows_stored']:,}; "
          f"row groups read {meta['row_groups_read']}, skipped {meta['row_groups_skipped']}")
    if baseline:
        base_growth = baseline["peak_rss_mb"] - baseline["rss_before_mb"]
        print(f"vs whole files: time ×{ratio(asset['seconds'], baseline['seconds'])} (the run includes Dagster and "
              f"the table writes), memory growth ×{ratio(growth, base_growth)} "
              f"({growth:.0f} MB vs {base_growth:.0f} MB)")
    write_results(results, {"machine": machine(), "args": vars(args), "export": {k: v for k, v in export.items()
                                                                                  if k not in ("env", "paths")},
                            "asset": asset, "baseline": baseline})
    print(f"results: {results}")


if __name__ == "__main__":
    main()
