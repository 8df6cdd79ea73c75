"""What `glue-inventory db upgrade` costs on a database with a history: time and peak memory.

A fresh Postgres database is created at the oldest migration (0001) and filled with `--jobs` jobs and
`--runs-per-job` runs each (runs through `repository.upsert_runs`, the bulk path a refresh uses); then
`glue-inventory db upgrade` runs as a child process, timed, with its peak RSS from wait4.

    PYTHONPATH=. .venv/bin/python bench/upgrade.py --database postgresql://postgres@127.0.0.1:5432/postgres

(PYTHONPATH=.: the history is the upgrade test's, glue_inventory_tests/storage/history.py.)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from common import DEFAULT_POSTGRES, machine, results_path, throwaway_postgres, write_results

from glue_inventory.storage.db import current_revision, make_engine
from glue_inventory.storage.tables import job_runs
from glue_inventory_tests.storage.history import OLDEST, fill_history, migrate_to


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_POSTGRES, help="a Postgres server URL")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs-per-job", type=int, default=100)
    args = parser.parse_args()
    with throwaway_postgres(args.database) as server_url:
        url = server_url.render_as_string(hide_password=False)
        migrate_to(url, OLDEST)
        started = time.perf_counter()
        fill_history(url, args.jobs, args.runs_per_job)
        fill_s = time.perf_counter() - started
        print(f"filled {args.jobs:,} jobs, {args.jobs * args.runs_per_job:,} runs at {OLDEST} in {fill_s:.1f} s",
              file=sys.stderr)
        started = time.perf_counter()
        child = subprocess.Popen([str(Path(sys.executable).parent / "glue-inventory"), "db", "upgrade", "--url", url])
        _, status, usage = os.wait4(child.pid, 0)
        upgrade_s = time.perf_counter() - started
        engine = make_engine(url)
        with engine.connect() as conn:
            runs = conn.execute(sa.select(sa.func.count()).select_from(job_runs)).scalar_one()
        revision = current_revision(engine)
        engine.dispose()
    figures = {"jobs": args.jobs, "runs": runs, "from": OLDEST, "to": revision, "fill_s": round(fill_s, 1),
               "upgrade_s": round(upgrade_s, 2), "upgrade_peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
               "exit_status": os.waitstatus_to_exitcode(status)}
    path = results_path("upgrade")
    write_results(path, {"machine": machine(), "args": vars(args), "figures": figures})
    print(f"| {args.jobs:,} jobs, {runs:,} runs | {OLDEST} → {revision} | {upgrade_s:.2f} s | "
          f"{usage.ru_maxrss / 1024:.0f} MB |")
    print(f"results: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
