"""Can declarative automation start a follow-up (the candidate list) after batched partition runs (the
preliminary refresh)? Measured with and without `DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS`.

The graph is the pipeline's shape without its AWS work: `per_job`, partitioned by job and run in ranges (one
run per batch, like `job_preliminary_metrics`), and `shortlist`, unpartitioned, downstream of it (like
`deep_analysis_candidates`) with the condition a follow-up needs: an input updated since the last request, and
no input partition in a run that is still queued or running. Per setting, on a fresh Postgres Dagster storage
(the deployment's): the first half of the jobs is materialized in one range run, the second half is queued as
another range run, then the condition is evaluated (right answer: wait), the queued run is cancelled and the
condition evaluated again (right answer: request). Beside it, what the sensors do instead: read the queued
and running runs' partition ranges (runs.partitions_in_progress).

Figures are medians over `--repeats`, and ratios against the deployed setting (the variable `true`) measured
in the same run. `DAGSTER_EVENT_BATCH_SIZE` is 1000 in both.

    .venv/bin/python bench/automation.py --partitions 2000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
from common import (
    DEFAULT_POSTGRES,
    dagster_instance,
    dagster_log_to,
    log,
    machine,
    print_table,
    ratio,
    results_path,
    write_results,
)

from glue_inventory.orchestration.automation.runs import RANGE_END, RANGE_START, partitions_in_progress

FLAG = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"
SETTINGS = {"true": "one planned event per run (deployed)", "false": "one planned event per partition"}
BASELINE = "true"

jobs = dg.DynamicPartitionsDefinition(name="jobs")


@dg.asset(partitions_def=jobs, backfill_policy=dg.BackfillPolicy.single_run())
def per_job() -> None:
    """One range of jobs per run, as the preliminary refresh runs them."""


FOLLOW_UP = (dg.AutomationCondition.any_deps_updated().since_last_handled()
             & ~dg.AutomationCondition.any_deps_in_progress() & ~dg.AutomationCondition.in_progress())


@dg.asset(deps=[per_job], automation_condition=FOLLOW_UP)
def shortlist() -> None:
    """The follow-up: after any input updated, once none is being computed."""


defs = dg.Definitions(assets=[per_job, shortlist])


def one_pass(instance: dg.DagsterInstance, keys: list[str]) -> dict:
    """The scenario above on `instance`: seconds of each step, what the condition decided, what the runs say."""
    instance.add_dynamic_partitions(jobs.name, keys)
    job = defs.resolve_implicit_global_asset_job_def()
    half = len(keys) // 2
    # The first evaluation sets the condition's cursor: "updated" means updated after it.
    cursor = dg.evaluate_automation_conditions(defs=defs, instance=instance).cursor
    started = time.perf_counter()
    done = job.execute_in_process(instance=instance, asset_selection=[per_job.key],
                                  tags={RANGE_START: keys[0], RANGE_END: keys[half - 1]})
    run_s = time.perf_counter() - started
    assert done.success
    started = time.perf_counter()
    queued = instance.create_run_for_job(job, asset_selection={per_job.key}, status=dg.DagsterRunStatus.NOT_STARTED,
                                         tags={RANGE_START: keys[half], RANGE_END: keys[-1]})
    plan_s = time.perf_counter() - started
    planned = len(instance.all_logs(queued.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED))
    started = time.perf_counter()
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    evaluate_s = time.perf_counter() - started
    started = time.perf_counter()
    busy = partitions_in_progress(instance, per_job.key, keys)
    runs_s = time.perf_counter() - started
    instance.report_run_canceled(queued)
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    return {"run_s": run_s, "plan_s": plan_s, "planned_events": planned, "evaluate_s": evaluate_s,
            "condition_waits": first.get_num_requested(shortlist.key) == 0,
            "condition_fires_after": second.get_num_requested(shortlist.key) == 1,
            "runs_s": runs_s, "runs_see_queued": len(busy) == len(keys) - half}


def measure(setting: str, keys: list[str], repeats: int, server: str) -> dict:
    os.environ[FLAG] = setting
    passes = []
    for repeat in range(repeats):
        log(f"{FLAG}={setting}: pass {repeat + 1}/{repeats} over {len(keys):,} partitions")
        with tempfile.TemporaryDirectory() as workdir, dagster_log_to(Path(workdir) / "dagster.log"), \
                dagster_instance("postgres", Path(workdir), server) as instance:
            passes.append(one_pass(instance, keys))
    numbers = {name: statistics.median(p[name] for p in passes) for name in ("run_s", "plan_s", "evaluate_s",
                                                                             "runs_s", "planned_events")}
    checks = {name: all(p[name] for p in passes) for name in ("condition_waits", "condition_fires_after",
                                                              "runs_see_queued")}
    return {**numbers, **checks}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=2000, help="jobs, split in two range runs (default 2000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="Postgres server for Dagster's storage")
    args = parser.parse_args()
    keys = [f"job-{index:06d}" for index in range(args.partitions)]
    saved = {name: os.environ.get(name) for name in (FLAG, "DAGSTER_EVENT_BATCH_SIZE")}
    os.environ["DAGSTER_EVENT_BATCH_SIZE"] = "1000"
    try:
        results = {setting: measure(setting, keys, args.repeats, args.postgres) for setting in SETTINGS}
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    base = results[BASELINE]
    rows = [[f"{FLAG}={setting} ({meaning})", r["planned_events"], r["plan_s"], ratio(r["plan_s"], base["plan_s"]),
             r["run_s"], ratio(r["run_s"], base["run_s"]), r["evaluate_s"], ratio(r["evaluate_s"], base["evaluate_s"]),
             "yes" if r["condition_waits"] else "NO", "yes" if r["condition_fires_after"] else "NO",
             r["runs_s"], "yes" if r["runs_see_queued"] else "NO"]
            for setting, meaning in SETTINGS.items() for r in [results[setting]]]
    print_table(f"{args.partitions:,} job partitions in two range runs, Postgres storage, median of {args.repeats}; "
                f"ratios against {FLAG}={BASELINE}",
                ["setting", "planned events (queued run)", "queue a run s", "×", "run half s", "×",
                 "evaluate condition s", "×", "condition waits for queued run", "condition fires after",
                 "runs read s", "runs see queued"], rows)
    path = results_path("automation")
    write_results(path, {"partitions": args.partitions, "repeats": args.repeats, "machine": machine(),
                         "results": results})
    log(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
