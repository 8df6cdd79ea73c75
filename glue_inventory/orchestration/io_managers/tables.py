"""The table IO manager: an output becomes its table's idempotent upsert, one transaction per output, and
an input is read back from the table.

Partitioned outputs arrive as one mapping of partition key → row for all the run's partitions, and
downstream assets read the tables, never thousands of pickles. Nothing here decides anything: what a
listing implies (vanished jobs, realized savings) is `services.inventory.store_snapshot`, called by
`glue_jobs` itself.
"""

from datetime import UTC, datetime

import dagster as dg

from glue_inventory.orchestration.resources import InventoryDatabase
from glue_inventory.storage.candidates import write_candidates
from glue_inventory.storage.jobs import read_jobs, write_preliminary


class InventoryTablesIOManager(dg.ConfigurableIOManager):
    """Writes `job_preliminary_metrics` (`data_jobs` status and metrics, preliminary `analysis_runs`) and
    `deep_analysis_candidates` (the current list) to their tables; reads `job_preliminary_metrics` back."""

    database: dg.ResourceDependency[InventoryDatabase]

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        name = context.asset_key.path[-1]
        engine = self.database.engine()
        if name == "job_preliminary_metrics":
            write_preliminary(engine, obj.values(), context.run_id, datetime.now(UTC))
        elif name == "deep_analysis_candidates":
            write_candidates(engine, obj, context.run_id)
        else:
            raise dg.DagsterInvariantViolationError(f"inventory_tables cannot store asset {name}")

    def load_input(self, context: dg.InputContext) -> dict[str, dict]:
        """The `data_jobs` rows (`storage.jobs.read_jobs`) of the input's partitions: only
        `job_preliminary_metrics` is read through here."""
        name = context.asset_key.path[-1]
        if name != "job_preliminary_metrics":
            raise dg.DagsterInvariantViolationError(f"inventory_tables cannot load asset {name}: only "
                                                    "job_preliminary_metrics is read back from the tables")
        keys = list(context.asset_partition_keys) if context.has_asset_partitions else None
        return read_jobs(self.database.engine(), keys)
