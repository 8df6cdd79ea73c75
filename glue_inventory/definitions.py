"""The Dagster definitions of glue_inventory: assets, checks, jobs, sensors, schedules and resources."""

from __future__ import annotations

import dagster as dg

from glue_inventory.assets.deep import deep_assets
from glue_inventory.assets.inventory import deep_analysis_candidates, glue_jobs, job_preliminary_metrics
from glue_inventory.assets.reporting import executive_report
from glue_inventory.automation import deep_analysis_candidate_sensor
from glue_inventory.checks import inventory_checks
from glue_inventory.notifications import notification_sensors
from glue_inventory.resources import AwsPlatforms, GlueInventoryConfig, InventoryDatabase, ReportsLocation
from glue_inventory.schedules import (
    build_schedules,
    inventory_automation_sensor,
    inventory_follow_up_sensor,
    inventory_refresh_sensor,
    with_automation,
)
from glue_inventory.sensors import glue_job_sync_sensor
from glue_inventory.storage.artifacts import JobArtifactsIOManager
from glue_inventory.storage.io_managers import InventoryTablesIOManager
from glue_inventory.storage.report_files import ReportFilesIOManager

config = GlueInventoryConfig()
database = InventoryDatabase()
reports = ReportsLocation()

inventory_job = dg.define_asset_job(
    "inventory_job_list",
    selection=dg.AssetSelection.assets(glue_jobs),
    description="Lists every Glue job and registers its partition.",
)

defs = dg.Definitions(
    assets=with_automation([glue_jobs, job_preliminary_metrics, deep_analysis_candidates, *deep_assets,
                            executive_report]),
    asset_checks=inventory_checks,
    jobs=[inventory_job],
    schedules=build_schedules(),
    sensors=[glue_job_sync_sensor, inventory_refresh_sensor, inventory_automation_sensor,
             inventory_follow_up_sensor, deep_analysis_candidate_sensor, *notification_sensors],
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
