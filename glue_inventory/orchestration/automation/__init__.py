"""Every sensor and schedule: the inventory refresh chain, the deep analysis, notifications, the hourly health
checks. All are built from the settings when the definitions load (never at import), so each starts RUNNING, or
STOPPED with `GLUE_INVENTORY_AUTOMATION=off`."""

import dagster as dg

from glue_inventory.config import ConfigError, Settings, load_settings
from glue_inventory.orchestration.automation.deep import candidate_sensor, weekly_schedule
from glue_inventory.orchestration.automation.health import health_schedule
from glue_inventory.orchestration.automation.inventory import (
    billing_schedule,
    inventory_sensors,
    refresh_schedule,
    with_automation,
)
from glue_inventory.orchestration.automation.notifications import notification_sensors
from glue_inventory.orchestration.automation.runs import schedule_status
from glue_inventory.orchestration.retention import retention_job


def retention_schedule(settings: Settings) -> dg.ScheduleDefinition:
    crons = settings.schedules
    return dg.ScheduleDefinition(name="retention_schedule", cron_schedule=crons.retention_cron,
                                 execution_timezone=crons.timezone, job=retention_job,
                                 default_status=schedule_status(settings),
                                 description="Prunes Dagster runs and analyses beyond the retention settings.")


def build_sensors(settings: Settings | None = None) -> list[dg.SensorDefinition]:
    """Every sensor, on the intervals and with the status the environment sets."""
    settings = settings or load_settings()
    return [*inventory_sensors(settings), candidate_sensor(settings), *notification_sensors(settings)]


def build_schedules(settings: Settings | None = None) -> list[dg.ScheduleDefinition]:
    """The refresh, weekly deep-analysis and retention schedules, on the cron strings of the settings, and the
    hourly freshness checks."""
    settings = settings or load_settings()
    schedules = [health_schedule(settings)]
    builds = [(refresh_schedule, "refresh_cron"), (weekly_schedule, "deep_analysis_cron"),
              (retention_schedule, "retention_cron")]
    if settings.billing:
        builds.append((billing_schedule, "refresh_cron"))
    for build, key in builds:
        try:
            schedules.append(build(settings))
        except dg.DagsterInvalidDefinitionError as exc:
            raise ConfigError(f"GLUE_INVENTORY_CONFIG: schedules.{key} or schedules.timezone: {exc} — a cron "
                              "string has five fields ('0 6 * * *'), a timezone is an IANA name ('UTC')") from None
    return schedules


__all__ = ["build_schedules", "build_sensors", "with_automation"]
