"""IO manager for report files: an asset's output of relative path → content, written under the reports
location (a local directory or `s3://bucket/prefix`, through universal-pathlib)."""

import dagster as dg

from glue_inventory.orchestration.resources import ReportsLocation


class ReportFilesIOManager(dg.ConfigurableIOManager):
    """Writes `{relative path: text or bytes}` outputs as files; reading one back returns the same mapping."""

    reports: dg.ResourceDependency[ReportsLocation]

    def handle_output(self, context: dg.OutputContext, obj: dict[str, str | bytes]) -> None:
        written = self.reports.write(obj)
        context.add_output_metadata({"files": dg.MetadataValue.json(written)})

    def load_input(self, context: dg.InputContext) -> dict[str, str]:
        raise dg.DagsterInvariantViolationError(
            f"{context.upstream_output.asset_key.to_user_string()} is a set of report files under "
            f"{self.reports.root}: read them there, not as an input")
