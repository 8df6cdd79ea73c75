"""services.actions.plans and services.actions.realized, called directly: every current candidate gets the plans
its planted problems call for, stored as the current plans, and a plan carried out outside the tool is found by
the next listing as a realized saving, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from glue_inventory.aws.clients import platform_sessions
from glue_inventory.aws.sessions import SessionMap
from glue_inventory.reports.remediation import JSON_FILE
from glue_inventory.services.actions.plans import build_plans
from glue_inventory.services.inventory import list_inventory, store_snapshot
from glue_inventory.simulate import Profile, build_fleet_from, start_simulator
from glue_inventory.storage.actions.remediation import current_plans, events_since
from glue_inventory.storage.candidates import current_candidates
from glue_inventory.storage.db import engine_for
from glue_inventory_tests.services.conftest import partition_key, refresh, settings_for
from glue_inventory_tests.sim_fixtures import point_at


@pytest.fixture(scope="module")
def plans(inventory, deep):
    return build_plans(inventory.engine, inventory.session_map(), datetime.now(UTC))


def _expected_kinds(truth, rightsized: bool) -> set[str]:
    if "inactive" in truth.reasons:
        kinds = {"delete_job"}
    else:
        kinds = {kind for reason, kind in (("flex_eligible", "switch_flex"), ("eol_version", "upgrade_glue_version"))
                 if reason in truth.reasons}
        kinds |= {"rightsize"} if rightsized else set()
    return kinds | ({"move_secrets"} if "secrets_in_arguments" in truth.reasons else set())


def test_each_candidate_gets_the_plans_its_planted_problems_call_for(inventory, deep, plans):
    kinds: dict[str, set[str]] = {}
    for plan in plans.plans:
        kinds.setdefault(plan["key"], set()).add(plan["kind"])
    candidates = {row["key"] for row in current_candidates(inventory.engine)}
    over = {key for key, result in deep.cloudwatch.items()
            if (result["rightsizing"] or {}).get("status") == "over_provisioned"}
    assert over and set(kinds) <= candidates | over
    for key in candidates | over:
        expected = _expected_kinds(inventory.truth[key], key in over)
        assert expected <= kinds.get(key, set()), key
        assert ("delete_job" in kinds.get(key, set())) == ("inactive" in inventory.truth[key].reasons), key
    assert plans.errors == {}


def test_the_plans_are_stored_as_the_current_ones_and_written_to_remediation_json(inventory, plans):
    assert plans.plans
    assert sorted(plan["plan_id"] for plan in current_plans(inventory.engine)) == \
        sorted(plan["plan_id"] for plan in plans.plans)
    written = json.loads(plans.files[JSON_FILE])
    assert sorted(plan["plan_id"] for plan in written["plans"]) == sorted(plan["plan_id"] for plan in plans.plans)
    assert plans.by_kind() == {kind: sum(1 for p in plans.plans if p["kind"] == kind) for kind in plans.by_kind()}


def test_a_plan_carried_out_outside_the_tool_is_one_realized_saving(postgres_url, monkeypatch):
    profile = Profile(glue_version="4.0", env="dev", schedule="hourly", name="flex_me")
    fleet = build_fleet_from([profile, Profile(name="left_alone")], 9, datetime.now(UTC), account_id="723000000041")
    with start_simulator(fleet) as sim:
        point_at(sim, monkeypatch)
        settings = settings_for(sim)
        sessions = platform_sessions(settings.platforms)
        engine = engine_for(postgres_url)
        refresh(engine, settings, sessions, "before")
        built = build_plans(engine, SessionMap(sessions), datetime.now(UTC))
        flex = next(plan for plan in built.plans if plan["kind"] == "switch_flex")
        job = fleet.job("flex_me")
        assert flex["key"] == partition_key(job.key)
        # A session of the simulator's own credentials: boto3's default session may hold an earlier test's.
        env = sim.env()
        glue = boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                     aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                     region_name=job.region).client("glue", endpoint_url=sim.endpoint_url)
        definition = glue.get_job(JobName="flex_me")["Job"]
        update = {name: definition[name] for name in ("Role", "Command", "WorkerType", "NumberOfWorkers",
                                                      "GlueVersion", "DefaultArguments") if name in definition}
        glue.update_job(JobName="flex_me", JobUpdate=update | {"ExecutionClass": "FLEX"})
        listing = list_inventory(sessions)
        store_snapshot(engine, listing, settings.pricing)
        store_snapshot(engine, list_inventory(sessions), settings.pricing)
    events = events_since(engine, datetime.now(UTC) - timedelta(hours=1))
    assert [(event["kind"], event["plan_id"], event["applied_by"]) for event in events] == \
        [("switch_flex", flex["plan_id"], "outside")]
    before = events[0]["monthly_cost_before_usd"]
    assert before > 0
    prices = settings.pricing
    assert events[0]["monthly_cost_after_usd"] == pytest.approx(
        before * prices.per_dpu_hour(job.region, "FLEX") / prices.per_dpu_hour(job.region, "STANDARD"))

