"""What storing run history costs on Postgres: COPY through a staging table against binding every row.

No AWS: `--runs` synthetic runs of `--jobs` jobs (the shape `job_preliminary_metrics` stores) go into a
fresh database three times: new (every run inserted), unchanged (a refresh: nothing to write) and with 5 %
changed (RUNNING runs that finished). Each is timed through `repository.upsert_runs` (COPY) and through
the same upsert statement bound row by row (executemany, what it did before), alternating, best of
`--repeat`, with the process's CPU time. Prints the seconds and their ratios.

    .venv/bin/python bench/store_runs.py --database postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from common import cpu_seconds, throwaway_postgres

from glue_inventory.storage import repository
from glue_inventory.storage.db import dispose_engines, engine_for

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def runs(job_ids: list[int], per_job: int, changed: bool) -> list[dict]:
    rows = []
    for job_id in job_ids:
        for n in range(per_job):
            started = T0 + timedelta(hours=n)
            finished = not (n % 20 == 0 and not changed)  # 5 % still RUNNING the first time
            rows.append({
                "data_job_id": job_id, "run_id": f"jr_{job_id}_{n:05d}", "attempt": 0,
                "state": "SUCCEEDED" if finished else "RUNNING", "started_on": started,
                "completed_on": started + timedelta(minutes=12) if finished else None,
                "execution_time_s": 720 if finished else None, "dpu_seconds": None, "dpu_hours": 2.0,
                "estimated_cost_usd": 0.88, "worker_type": "G.1X", "number_of_workers": 10, "max_capacity": 10.0,
                "glue_version": "4.0", "execution_class": "STANDARD", "error_message": None, "fetched_at": T0,
            })
    return rows


def bound_row_by_row(engine, rows: list[dict]) -> None:
    """The upsert statement with every row's parameters bound (executemany), 1,000 rows a statement."""
    with repository.transaction(engine) as conn:
        for chunk in repository.chunks(rows, repository.BATCH_SIZE):
            stmt = repository._upsert_runs_statement(repository.dialect_insert(conn, repository.job_runs), chunk[0])
            conn.execute(stmt, chunk)


def measure(server: str, jobs: int, per_job: int, repeat: int) -> dict[str, dict[str, tuple[float, float]]]:
    best: dict[str, dict[str, tuple[float, float]]] = {}
    for _ in range(repeat):
        for mode, store in (("copy", repository.upsert_runs), ("executemany", bound_row_by_row)):
            with throwaway_postgres(server) as url:
                engine = engine_for(url.render_as_string(hide_password=False))
                platform = repository.upsert_platform(engine, name="bench", platform_type="aws_glue",
                                                      account_id="111122223333", region="us-east-1", credentials={})
                ids = list(repository.upsert_jobs(engine, platform, [
                    {"name": f"job_{i:05d}", "partition_key": f"111122223333/us-east-1/job_{i:05d}"}
                    for i in range(jobs)], T0).values())
                for step, rows in (("new", runs(ids, per_job, False)), ("unchanged", runs(ids, per_job, False)),
                                   ("5 % changed", runs(ids, per_job, True))):
                    wall, cpu = time.perf_counter(), cpu_seconds()
                    store(engine, rows)
                    figures = (time.perf_counter() - wall, cpu_seconds() - cpu)
                    kept = best.setdefault(step, {}).get(mode)
                    if kept is None or figures[0] < kept[0]:
                        best[step][mode] = figures
                dispose_engines()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a Postgres server URL: a throwaway database is created on it and dropped")
    parser.add_argument("--jobs", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=200_000, help="runs in all (spread over the jobs)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    per_job = max(1, args.runs // args.jobs)
    best = measure(args.database, args.jobs, per_job, args.repeat)
    print(f"{args.jobs * per_job:,} runs of {args.jobs:,} jobs on Postgres, best of {args.repeat}")
    print(f"{'':<14}{'COPY wall':>11}{'CPU':>8}{'executemany wall':>18}{'CPU':>8}{'wall ratio':>12}{'CPU ratio':>11}")
    for step, modes in best.items():
        (copy_wall, copy_cpu), (many_wall, many_cpu) = modes["copy"], modes["executemany"]
        print(f"{step:<14}{copy_wall:>10.2f}s{copy_cpu:>7.2f}s{many_wall:>17.2f}s{many_cpu:>7.2f}s"
              f"{many_wall / copy_wall:>11.2f}x{many_cpu / max(copy_cpu, 1e-9):>10.2f}x")


if __name__ == "__main__":
    main()
