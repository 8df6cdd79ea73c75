"""GLUE_INVENTORY_AUTOMATION starts or stops every sensor and schedule of the definitions; the intervals come
from the environment too, read when the definitions are built."""

import dagster as dg
import pytest

from glue_inventory.config import load_settings
from glue_inventory.definitions import build_definitions


@pytest.fixture
def billing_config(tmp_path) -> str:
    """A config with every optional schedule (the bill's) so that none escapes the check."""
    path = tmp_path / "config.yaml"
    path.write_text("billing: {cur_uri: 's3://billing-exports/cur2/'}\n")
    return str(path)


@pytest.mark.parametrize(("switch", "sensor_status", "schedule_status"), [
    ("off", dg.DefaultSensorStatus.STOPPED, dg.DefaultScheduleStatus.STOPPED),
    ("OFF", dg.DefaultSensorStatus.STOPPED, dg.DefaultScheduleStatus.STOPPED),
    ("on", dg.DefaultSensorStatus.RUNNING, dg.DefaultScheduleStatus.RUNNING),
    ("", dg.DefaultSensorStatus.RUNNING, dg.DefaultScheduleStatus.RUNNING),
])
def test_every_sensor_and_schedule_starts_as_the_switch_says(billing_config, switch, sensor_status,
                                                             schedule_status):
    defs = build_definitions(load_settings(billing_config, environ={"GLUE_INVENTORY_AUTOMATION": switch}))
    # The definitions' own lists: building a repository would read the Dagster instance an earlier test of the
    # worker may have left behind.
    sensors, schedules = list(defs.sensors or []), list(defs.schedules or [])
    assert "glue_job_sync_sensor" in {sensor.name for sensor in sensors}
    assert "billing_refresh_schedule" in {schedule.name for schedule in schedules}
    assert {sensor.name: sensor.default_status for sensor in sensors} == dict.fromkeys(
        (sensor.name for sensor in sensors), sensor_status)
    assert {schedule.name: schedule.default_status for schedule in schedules} == dict.fromkeys(
        (schedule.name for schedule in schedules), schedule_status)


def test_the_sensors_look_as_often_as_the_environment_says():
    environ = {"GLUE_INVENTORY_AUTOMATION_INTERVAL_S": "7", "GLUE_INVENTORY_SYNC_INTERVAL_S": "11"}
    sensors = list(build_definitions(load_settings(None, environ=environ)).sensors or [])
    intervals = {sensor.name: sensor.minimum_interval_seconds for sensor in sensors}
    assert intervals.pop("glue_job_sync_sensor") == 11
    assert set(intervals.values()) == {7}
