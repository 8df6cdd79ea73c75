"""Every hour, the freshness checks of each stage (and with them the health KPIs): a stage that stopped is seen
within the hour, whether or not anything else runs."""

import dagster as dg

from glue_inventory.config import Settings
from glue_inventory.orchestration.automation.runs import STAGE_TAG, schedule_status
from glue_inventory.orchestration.checks import FRESHNESS_CHECKS

# Hourly: an alarm on InventoryAgeHours > 26 fires at most an hour late; 720 PutMetricData requests a month.
HEALTH_CRON = "0 * * * *"



def health_schedule(settings: Settings) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="stage_freshness_schedule", cron_schedule=HEALTH_CRON,
        target=dg.AssetSelection.checks(*FRESHNESS_CHECKS), tags={STAGE_TAG: "health"},
        default_status=schedule_status(settings),
        description="Checks each stage's age against `freshness:` and publishes InventoryAgeHours and "
                    "LastRunSucceeded.")
