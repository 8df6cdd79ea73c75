"""The refresh and weekly schedules, and the declarative conditions that chain the refresh, with real Dagster."""

import os
import subprocess
import sys
from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa

from glue_inventory.config import ConfigError, Settings, load_settings
from glue_inventory.definitions import defs
from glue_inventory.orchestration.assets import DEEP_ASSET_KEYS
from glue_inventory.orchestration.automation import build_schedules, build_sensors
from glue_inventory.orchestration.automation.runs import RANGE_END, RANGE_START, STAGE_TAG
from glue_inventory.orchestration.resources import GlueInventoryConfig, InventoryDatabase
from glue_inventory.pipeline import materialize, run_pipeline
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import data_jobs, deep_analysis_candidates

DEEP = [key.to_user_string() for key in DEEP_ASSET_KEYS]
inventory_follow_up_sensor = {s.name: s for s in build_sensors(Settings())}["inventory_follow_up_sensor"]
MONDAY = datetime(2026, 3, 2, 7, tzinfo=UTC)


def by_name(schedules: list[dg.ScheduleDefinition]) -> dict[str, dg.ScheduleDefinition]:
    return {schedule.name: schedule for schedule in schedules}


def test_schedules_run_on_the_configured_cron(tmp_path):
    default = by_name(build_schedules(load_settings(None)))
    assert default["inventory_refresh_schedule"].cron_schedule == "0 6 * * *"
    assert default["deep_analysis_weekly_schedule"].cron_schedule == "0 7 * * 1"
    assert all(s.default_status == dg.DefaultScheduleStatus.RUNNING for s in default.values())

    config = tmp_path / "config.yaml"
    config.write_text("schedules: {refresh_cron: '30 2 * * *', deep_analysis_cron: '0 3 * * 0', "
                      "timezone: Europe/Paris}\n")
    custom = by_name(build_schedules(load_settings(config)))
    assert custom["inventory_refresh_schedule"].cron_schedule == "30 2 * * *"
    assert custom["deep_analysis_weekly_schedule"].cron_schedule == "0 3 * * 0"
    assert custom["inventory_refresh_schedule"].execution_timezone == "Europe/Paris"


@pytest.mark.parametrize(("yaml", "key"), [
    ("schedules: {refresh_cron: '0 6 * *'}", "schedules.refresh_cron"),
    ("schedules: {deep_analysis_cron: 'weekly'}", "schedules.deep_analysis_cron"),
])
def test_an_invalid_cron_names_the_setting(tmp_path, yaml, key):
    config = tmp_path / "config.yaml"
    config.write_text(yaml + "\n")
    with pytest.raises(ConfigError, match=key):
        build_schedules(load_settings(config))


def test_the_refresh_schedule_lists_the_jobs_and_nothing_else():
    schedule = defs.resolve_schedule_def("inventory_refresh_schedule")
    assert defs.resolve_job_def(schedule.job_name).asset_layer.selected_asset_keys == {dg.AssetKey("glue_jobs")}
    [request] = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=MONDAY)).run_requests
    assert request.tags[STAGE_TAG] == "inventory"


def test_declarative_automation_lists_the_jobs_once_on_a_fresh_deployment(sim_env, sqlite_url, tmp_path,
                                                                          monkeypatch):
    monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GLUE_INVENTORY_REPORTS_DIR", str(tmp_path / "reports"))
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert result.total_requested == 1 and result.get_num_requested(dg.AssetKey("glue_jobs")) == 1
        materialize(instance, ["glue_jobs"])
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
        assert result.total_requested == 0  # from now on the schedule lists the jobs


def test_follow_ups_wait_until_no_input_is_being_computed(sim_env, sqlite_url, tmp_path, monkeypatch):
    """Candidates once no preliminary batch runs (each batch is a range run), the report after the
    candidates and again after a deep analysis."""
    monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GLUE_INVENTORY_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.delenv("GLUE_INVENTORY_CONFIG", raising=False)
    job = defs.resolve_implicit_global_asset_job_def()

    def follow_ups() -> list[str]:
        result = inventory_follow_up_sensor(dg.build_sensor_context(instance=instance))
        if isinstance(result, dg.SkipReason):
            return []
        assert all(request.run_key for request in result)
        return [key.to_user_string() for request in result for key in request.asset_selection]

    with dg.DagsterInstance.ephemeral() as instance:
        materialize(instance, ["glue_jobs"])
        assert follow_ups() == []
        keys = instance.get_dynamic_partitions("glue_jobs")
        running = instance.create_run_for_job(job, asset_selection={dg.AssetKey("job_preliminary_metrics")},
                                              tags={RANGE_START: keys[2], RANGE_END: keys[-1]},
                                              status=dg.DagsterRunStatus.NOT_STARTED)
        materialize(instance, ["job_preliminary_metrics"], {RANGE_START: keys[0], RANGE_END: keys[1]})
        assert follow_ups() == []  # one batch done, another still to run
        instance.report_run_canceled(running)
        assert follow_ups() == ["deep_analysis_candidates"]

        materialize(instance, ["deep_analysis_candidates"])
        # The report is made with the remediation plans it names, in one run.
        assert follow_ups() == ["remediation_plans", "executive_report"]
        materialize(instance, ["remediation_plans", "executive_report"])
        assert follow_ups() == []

        deep = instance.create_run_for_job(job, asset_selection=set(DEEP_ASSET_KEYS),
                                           tags={RANGE_START: keys[1], RANGE_END: keys[1]},
                                           status=dg.DagsterRunStatus.NOT_STARTED)
        materialize(instance, DEEP, partition_key=keys[0])
        assert follow_ups() == []  # another deep analysis is on its way
        instance.report_run_canceled(deep)
        # The candidate list is downstream of the deep analysis (it scores the evidence), the report of the list.
        assert follow_ups() == ["deep_analysis_candidates"]
        materialize(instance, ["deep_analysis_candidates"])
        assert follow_ups() == ["remediation_plans", "executive_report"]
        materialize(instance, ["remediation_plans", "executive_report"])

        # A new read of the bill (without billing: a recorded no-op) recomputes the candidates, then the report.
        materialize(instance, ["glue_billed_costs"])
        assert follow_ups() == ["deep_analysis_candidates"]
        materialize(instance, ["deep_analysis_candidates"])
        assert follow_ups() == ["remediation_plans", "executive_report"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_weekly_schedule_analyses_every_chosen_job_changed_or_not(sim_env, database_url, tmp_path,
                                                                      monkeypatch):
    config = tmp_path / "config.yaml"
    config.write_text("deep_analysis: {top_k_savings: 2, top_k_risk: 1}\n")
    monkeypatch.setenv("GLUE_INVENTORY_CONFIG", str(config))  # the candidate list records the lanes it chose
    monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", database_url)
    monkeypatch.setenv("GLUE_INVENTORY_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    schedule = defs.resolve_schedule_def("deep_analysis_weekly_schedule")
    resources = {"config": GlueInventoryConfig(config_path=str(config)), "inventory_db": InventoryDatabase()}
    with dg.instance_for_test() as instance:  # a schedule context needs a persistent instance
        run_pipeline(instance, log=lambda _: None)
        with engine_for(database_url).connect() as conn:
            top = list(conn.execute(  # the jobs the two lanes chose
                sa.select(data_jobs.c.partition_key)
                .join(deep_analysis_candidates, deep_analysis_candidates.c.data_job_id == data_jobs.c.id)
                .where(deep_analysis_candidates.c.is_current, deep_analysis_candidates.c.deep_lane.is_not(None))
                .order_by(deep_analysis_candidates.c.deep_lane.desc(), deep_analysis_candidates.c.deep_rank))
                .scalars())
        assert len(top) == 3
        materialize(instance, DEEP, partition_key=top[0])  # analysed and unchanged: analysed again anyway
        instance.create_run_for_job(defs.resolve_job_def(schedule.job_name), asset_selection=set(DEEP_ASSET_KEYS),
                                    tags={"dagster/partition": top[1]}, status=dg.DagsterRunStatus.NOT_STARTED)

        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=MONDAY, resources=resources)
        requests = schedule.evaluate_tick(context).run_requests
        ordered = instance.get_dynamic_partitions("glue_jobs")
    covered = {key for r in requests
               for key in ordered[ordered.index(r.tags[RANGE_START]):ordered.index(r.tags[RANGE_END]) + 1]}
    assert covered == {top[0], top[2]}  # top[1] is being analysed already
    assert all(r.run_key.startswith("weekly-2026-03-02") and r.tags[STAGE_TAG] == "deep_analysis" for r in requests)


@pytest.mark.parametrize(("switch", "expected"), [("off", "STOPPED STOPPED"), ("maybe", "expected on or off")])
def test_automation_can_be_switched_off_for_a_webserver_on_the_demo_data(switch, expected):
    probe = ("from glue_inventory.definitions import defs; "
             "print(defs.resolve_sensor_def('inventory_refresh_sensor').default_status.value, "
             "defs.resolve_schedule_def('inventory_refresh_schedule').default_status.value)")
    env = {**os.environ, "GLUE_INVENTORY_AUTOMATION": switch}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert expected in done.stdout + done.stderr
