"""The table IO manager: asset outputs become idempotent upserts, one transaction per output.

Partitioned outputs arrive as one mapping of partition key → row for all the run's partitions,
and downstream assets read the tables, never thousands of pickles.
"""

from datetime import UTC, datetime

import dagster as dg

from glue_inventory.orchestration.resources import GlueInventoryConfig, InventoryDatabase
from glue_inventory.services.inventory import store_snapshot
from glue_inventory.storage.candidates import write_candidates
from glue_inventory.storage.jobs import read_jobs, write_preliminary


class InventoryTablesIOManager(dg.ConfigurableIOManager):
    """Writes `glue_jobs`, `job_preliminary_metrics` and `deep_analysis_candidates` to the inventory tables."""

    database: dg.ResourceDependency[InventoryDatabase]
    config: dg.ResourceDependency[GlueInventoryConfig]

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        name = context.asset_key.path[-1]
        engine = self.database.engine()
        if name == "glue_jobs":
            store_snapshot(engine, obj, self.config.settings.pricing)
        elif name == "job_preliminary_metrics":
            write_preliminary(engine, obj.values(), context.run_id, datetime.now(UTC))
        elif name == "deep_analysis_candidates":
            write_candidates(engine, obj, context.run_id)
        else:
            raise dg.DagsterInvariantViolationError(f"inventory_tables cannot store asset {name}")

    def load_input(self, context: dg.InputContext) -> dict[str, dict]:
        keys = list(context.asset_partition_keys) if context.has_asset_partitions else None
        return read_jobs(self.database.engine(), keys)
