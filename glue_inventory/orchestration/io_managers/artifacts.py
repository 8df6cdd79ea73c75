"""IO manager for the per-job deep-analysis assets: one JSON document per job and asset in `job_artifacts`."""

import dagster as dg

from glue_inventory.orchestration.resources import InventoryDatabase
from glue_inventory.storage.artifacts import read_artifacts, write_artifacts


class JobArtifactsIOManager(dg.ConfigurableIOManager):
    """Stores a partitioned asset's output (partition key → JSON) in `job_artifacts`, one transaction per run."""

    database: dg.ResourceDependency[InventoryDatabase]

    def handle_output(self, context: dg.OutputContext, obj: dict[str, dict]) -> None:
        write_artifacts(self.database.engine(), context.asset_key.path[-1], context.run_id, obj)

    def load_input(self, context: dg.InputContext) -> dict[str, dict]:
        keys = context.asset_partition_keys if context.has_asset_partitions else None
        return read_artifacts(self.database.engine(), context.upstream_output.asset_key.path[-1], keys)
