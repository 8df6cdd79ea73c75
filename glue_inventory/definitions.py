"""The Dagster definitions of glue_inventory: assets, checks, jobs, sensors, schedules and resources."""

from __future__ import annotations

import dagster as dg

from glue_inventory.orchestration.assets import ASSETS, GLUE_JOBS
from glue_inventory.orchestration.automation import SENSORS, build_schedules, with_automation
from glue_inventory.orchestration.checks import inventory_checks
from glue_inventory.orchestration.io_managers.artifacts import JobArtifactsIOManager
from glue_inventory.orchestration.io_managers.report_files import ReportFilesIOManager
from glue_inventory.orchestration.io_managers.tables import InventoryTablesIOManager
from glue_inventory.orchestration.remediation import apply_remediation
from glue_inventory.orchestration.resources import AwsPlatforms, GlueInventoryConfig, InventoryDatabase, ReportsLocation
from glue_inventory.orchestration.retention import retention_job

config = GlueInventoryConfig()
database = InventoryDatabase()
reports = ReportsLocation()

inventory_job = dg.define_asset_job(
    "inventory_job_list",
    selection=dg.AssetSelection.assets(GLUE_JOBS),
    description="Lists every Glue job and registers its partition.",
)

defs = dg.Definitions(
    assets=with_automation(ASSETS),
    asset_checks=inventory_checks,
    jobs=[inventory_job, apply_remediation, retention_job],
    schedules=build_schedules(),
    sensors=SENSORS,
    resources={
        "config": config,
        "aws": AwsPlatforms(config=config),
        "inventory_db": database,
        "reports": reports,
        "inventory_tables": InventoryTablesIOManager(database=database),
        "job_artifacts": JobArtifactsIOManager(database=database),
        "report_files": ReportFilesIOManager(reports=reports),
    },
)
