"""The Dagster definitions of glue_inventory: assets, checks, jobs, sensors, schedules and resources.

Loading this module is the definitions' load: the settings (the config file and the GLUE_INVENTORY_*
variables) are read here, once, and a bad value stops the load with an error naming it."""

from __future__ import annotations

import gc

import dagster as dg

from glue_inventory import use_dagster_speed_env
from glue_inventory.config import Settings, load_settings
from glue_inventory.orchestration.assets import ASSETS, GLUE_JOBS
from glue_inventory.orchestration.automation import build_schedules, build_sensors, with_automation
from glue_inventory.orchestration.checks import inventory_checks
from glue_inventory.orchestration.executor import glue_inventory_executor
from glue_inventory.orchestration.io_managers.artifacts import JobArtifactsIOManager
from glue_inventory.orchestration.io_managers.report_files import ReportFilesIOManager
from glue_inventory.orchestration.io_managers.tables import InventoryTablesIOManager
from glue_inventory.orchestration.remediation import apply_remediation
from glue_inventory.orchestration.resources import AwsPlatforms, GlueInventoryConfig, InventoryDatabase, ReportsLocation
from glue_inventory.orchestration.retention import retention_job

inventory_job = dg.define_asset_job(
    "inventory_job_list",
    selection=dg.AssetSelection.assets(GLUE_JOBS),
    description="Lists every Glue job and registers its partition.",
)


def build_definitions(settings: Settings | None = None,
                      executor: dg.ExecutorDefinition | None = None) -> dg.Definitions:
    """The code location: its sensors and schedules started or stopped, and timed, by `settings`; its runs on
    `executor` (default: ours, orchestration/executor.py; dagster-celery's or dagster-k8s's to scale out)."""
    settings = settings or load_settings()
    use_dagster_speed_env()
    config = GlueInventoryConfig()
    database = InventoryDatabase()
    reports = ReportsLocation()
    return dg.Definitions(
        assets=with_automation(ASSETS),
        asset_checks=inventory_checks,
        executor=executor or glue_inventory_executor,
        jobs=[inventory_job, apply_remediation, retention_job],
        schedules=build_schedules(settings),
        sensors=build_sensors(settings),
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


defs = build_definitions()
# Everything loaded so far (Dagster's and our modules, about 190,000 objects) lives as long as the process:
# out of the collector's sight, each full collection and the one at exit skip it (0.6 s of every command).
gc.freeze()
