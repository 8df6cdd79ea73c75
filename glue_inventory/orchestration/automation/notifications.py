"""Notification sensors: a summary when the inventory refresh succeeds, the failed step when any run fails.

What is sent and how: services/notifications.py.
"""

import dagster as dg
from dagster_shared.error import SerializableErrorInfo

from glue_inventory.config import Settings
from glue_inventory.orchestration.assets import CANDIDATES
from glue_inventory.orchestration.automation.runs import RANGE_END, RANGE_START, sensor_status
from glue_inventory.orchestration.resources import GlueInventoryConfig, InventoryDatabase
from glue_inventory.services.notifications import configured, notify, refresh_summary

ERROR_CHARS = 500


def _innermost(error: SerializableErrorInfo) -> SerializableErrorInfo:
    """The user's exception under Dagster's wrappers (DagsterExecutionStepExecutionError and the like)."""
    while error.cause is not None:
        error = error.cause
    return error


def failure_summary(context: dg.RunFailureSensorContext) -> tuple[str, str]:
    """Subject and text for a failed run: what it ran, and each failed step with its error."""
    run = context.dagster_run
    assets = sorted(key.to_user_string() for key in run.asset_selection or ())
    partitions = run.tags.get("dagster/partition") or " … ".join(
        filter(None, (run.tags.get(RANGE_START), run.tags.get(RANGE_END))))
    lines = [f"glue_inventory: run {run.run_id[:8]} of {run.job_name} failed"
             + (f" (assets {', '.join(assets[:5])})" if assets else "")
             + (f", partitions {partitions}" if partitions else "")]
    steps = context.get_step_failure_events()
    for event in steps[:3]:
        error = _innermost(event.step_failure_data.error) if event.step_failure_data.error else None
        message = error.message.strip() if error else "no error recorded"
        lines.append(f"step {event.step_key}: {message[:ERROR_CHARS]}")
    if not steps:
        lines.append((context.failure_event.message or "the run failed before any step started")[:ERROR_CHARS])
    failed = ", ".join(event.step_key or "?" for event in steps[:3]) or run.job_name
    return f"glue_inventory: run failed ({failed})", "\n".join(lines)


def inventory_refresh_notification_sensor(context: dg.RunStatusSensorContext, config: GlueInventoryConfig,
                                          inventory_db: InventoryDatabase):
    """Sends the refresh summary when a run that wrote the candidate list succeeds."""
    settings = config.settings
    if not configured(settings):
        return dg.SkipReason("no notification target configured")
    latest = context.instance.get_latest_materialization_event(CANDIDATES)
    if latest is None or latest.run_id != context.dagster_run.run_id:
        return dg.SkipReason("the run did not write the current candidate list")
    subject, text = refresh_summary(inventory_db.engine(), context.dagster_run.run_id)
    notify(settings, subject, text, context.log)
    return None


def run_failure_notification_sensor(context: dg.RunFailureSensorContext, config: GlueInventoryConfig):
    """Sends the failed step and its error (secrets redacted) when any run of this code location fails."""
    settings = config.settings
    if not configured(settings):
        return dg.SkipReason("no notification target configured")
    subject, text = failure_summary(context)
    notify(settings, subject, text, context.log)
    return None


def notification_sensors(settings: Settings) -> list[dg.SensorDefinition]:
    status, interval = sensor_status(settings), settings.environment.automation_interval_s
    return [
        dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, name="inventory_refresh_notification_sensor",
                             minimum_interval_seconds=interval,
                             default_status=status)(inventory_refresh_notification_sensor),
        dg.run_failure_sensor(name="run_failure_notification_sensor", minimum_interval_seconds=interval,
                              default_status=status)(run_failure_notification_sensor),
    ]
