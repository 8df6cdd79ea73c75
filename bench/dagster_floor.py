"""Dagster's own floor under the inventory's three commands: a code location whose assets do nothing but
what Dagster needs, with the inventory's shape (a list that adds one dynamic partition per job, every
partition materialized in one run, then an unpartitioned asset), run as the same three `dagster asset
materialize` commands on the same instance. What those commands take is what any Dagster code location
pays for them on this machine: process start-up, Dagster's import and storage, run creation, one
materialization event per partition, exit. `bench/scale.py` subtracts it from the inventory's time outside
the API phases to say what is the inventory's own.

The job keys are read from the file named by GLUE_INVENTORY_BENCH_FLOOR_KEYS (one per line).
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

floor_partitions = dg.DynamicPartitionsDefinition(name="floor_jobs")


@dg.asset
def floor_jobs(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    keys = Path(os.environ["GLUE_INVENTORY_BENCH_FLOOR_KEYS"]).read_text(encoding="utf-8").splitlines()
    existing = set(context.instance.get_dynamic_partitions(floor_partitions.name))
    new = [key for key in keys if key not in existing]
    if new:
        context.instance.add_dynamic_partitions(floor_partitions.name, new)
    return dg.MaterializeResult(metadata={"jobs": len(keys)})


@dg.asset(partitions_def=floor_partitions, deps=[floor_jobs], backfill_policy=dg.BackfillPolicy.single_run(),
          io_manager_key="nothing")
def floor_metrics(context: dg.AssetExecutionContext) -> dg.Output[None]:
    return dg.Output(None, metadata={"jobs": len(context.partition_keys)})


@dg.asset(deps=[floor_metrics])
def floor_candidates() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"candidates": 0})


class _Nothing(dg.IOManager):
    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        pass

    def load_input(self, context: dg.InputContext) -> None:
        return None


defs = dg.Definitions(assets=[floor_jobs, floor_metrics, floor_candidates], resources={"nothing": _Nothing()},
                      executor=dg.in_process_executor)


def floor_seconds(env: dict[str, str], keys: list[str], log_path: Path) -> dict[str, float]:
    """Wall seconds of each of the three commands over this module, with `env` (the inventory's DAGSTER_HOME
    and Dagster settings) and the inventory's job keys as partitions."""
    dagster = str(Path(sys.executable).parent / "dagster")
    base = [dagster, "asset", "materialize", "-f", __file__, "--select"]
    seconds = {}
    with tempfile.NamedTemporaryFile("w", suffix=".keys", encoding="utf-8") as listing, \
            log_path.open("a", encoding="utf-8") as log_file:
        listing.write("\n".join(keys))
        listing.flush()
        for name, extra in (("floor_jobs", []), ("floor_metrics", ["--partition-range", f"{keys[0]}...{keys[-1]}"]),
                            ("floor_candidates", [])):
            started = time.perf_counter()
            subprocess.run([*base, name, *extra], env={**env, "GLUE_INVENTORY_BENCH_FLOOR_KEYS": listing.name},
                           stdout=log_file, stderr=subprocess.STDOUT, check=True)
            seconds[name] = round(time.perf_counter() - started, 2)
    return seconds
