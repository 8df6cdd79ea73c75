"""Every account of an AWS Organization, configured with `organization:` only (issue 13's acceptance).

The simulated Organization has six member accounts: two healthy ones in nested OUs (one with jobs in two
Regions), one whose role cannot be assumed, one suspended, one excluded by id and one outside
`include_ous`; all six hold jobs. The pipeline runs once for the module; each test reads what it left.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from glue_inventory.definitions import defs
from glue_inventory.keys import encode_partition_key
from glue_inventory.orchestration.assets import DEEP_ASSET_KEYS
from glue_inventory.orchestration.checks import no_platform_failed
from glue_inventory.orchestration.partitions import glue_jobs_partitions
from glue_inventory.orchestration.resources import InventoryDatabase
from glue_inventory.pipeline import environment, materialize, run_pipeline
from glue_inventory.reports.paths import job_report_relpath
from glue_inventory.simulate import Fault, Fleet, Simulator, build_organization, start_simulator
from glue_inventory.simulate.organization import MEMBERS
from glue_inventory.simulate.truth import compute_truth
from glue_inventory.storage.artifacts import read_artifacts
from glue_inventory.storage.db import dispose_engines, engine_for
from glue_inventory.storage.tables import analysis_runs, data_jobs, platforms
from glue_inventory_tests.sim_fixtures import point_at

MANAGEMENT = "920000000001"
HEALTHY = {"111111111111", "222222222222"}
DENIED, SUSPENDED, EXCLUDED, OUTSIDE = "333333333333", "444444444444", "555555555555", "666666666666"
SHARED_NAME = "clickstream_sessionize_hourly"  # the first archetype: in every member account


@dataclass
class Inventoried:
    sim: Simulator
    fleet: Fleet
    url: str
    reports: Path
    instance: dg.DagsterInstance


@pytest.fixture(scope="module")
def inventoried(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Inventoried]:
    tmp = tmp_path_factory.mktemp("organization")
    fleet = build_organization(48, 3, datetime.now(UTC), management_account_id=MANAGEMENT)
    config = tmp / "config.yaml"
    config.write_text(fleet.organization.config_yaml(["us-east-1", "eu-west-1"]))
    url = f"sqlite:///{tmp / 'inventory.db'}"
    with start_simulator(fleet) as sim, environment(sim.env() | {
        "AWS_PROFILE": None, "OPENAI_API_KEY": None, "GLUE_INVENTORY_CONFIG": str(config),
        "GLUE_INVENTORY_DATABASE_URL": url, "GLUE_INVENTORY_REPORTS_DIR": str(tmp / "reports"),
    }), dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
        shared = sorted(encode_partition_key(account, "us-east-1", SHARED_NAME) for account in HEALTHY)
        for key in shared:  # the deep analysis of healthy jobs, while the denied account is there
            materialize(instance, DEEP_ASSET_KEYS, partition_key=key)
        materialize(instance, ["executive_report"])
        yield Inventoried(sim, fleet, url, tmp / "reports", instance)
    dispose_engines()


def _rows(url: str, query) -> list[dict]:
    with engine_for(url).connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def glue_jobs_failure() -> str:
    """The description of the failure of a `glue_jobs` run (there must be one). The definitions were loaded
    with a good config (at import); a config that is bad at load time stops the code location with the same
    one line (see test_faults)."""
    job = defs.resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, asset_selection=[dg.AssetKey("glue_jobs")],
                                        raise_on_error=False)
    assert not result.success
    failure = next(event for event in result.all_events if event.is_step_failure).step_failure_data
    return failure.user_failure_data.description if failure.user_failure_data else failure.error.message


def _keys(fleet: Fleet, accounts: set[str]) -> set[str]:
    return {encode_partition_key(j.account_id, j.region, j.name) for j in fleet.jobs if j.account_id in accounts}


def test_organization_matches_the_scenario(inventoried):
    org, fleet = inventoried.fleet.organization, inventoried.fleet
    assert {a.account_id for a in org.inventoried()} == HEALTHY
    regions = {account: {j.region for j in fleet.jobs if j.account_id == account} for account in HEALTHY}
    assert regions == {"111111111111": {"us-east-1", "eu-west-1"}, "222222222222": {"us-east-1"}}
    others = {DENIED, SUSPENDED, EXCLUDED, OUTSIDE}
    assert {j.account_id for j in fleet.jobs} == HEALTHY | others, "every member account holds jobs"


def test_every_healthy_job_has_its_status_and_cost(inventoried):
    truth = compute_truth(inventoried.fleet, inventoried.fleet.now)
    jobs = {row["partition_key"]: row for row in _rows(inventoried.url, sa.select(data_jobs))}
    assert set(jobs) == _keys(inventoried.fleet, HEALTHY)
    for job in inventoried.fleet.jobs:
        if job.account_id in HEALTHY:
            row, expected = jobs[encode_partition_key(job.account_id, job.region, job.name)], truth[job.key]
            assert (row["status"], round(row["metrics"]["cost_30d_usd"], 6)) == \
                (expected.status, round(expected.cost_30d_usd, 6)), job.key
    assert set(inventoried.instance.get_dynamic_partitions(glue_jobs_partitions.name)) == set(jobs)


def test_no_job_of_the_other_accounts_appears_anywhere(inventoried):
    others = _keys(inventoried.fleet, {DENIED, SUSPENDED, EXCLUDED, OUTSIDE})
    assert others
    texts = {path: path.read_text(encoding="utf-8") for path in inventoried.reports.rglob("*") if path.is_file()}
    assert "executive_summary.md" in {path.name for path in texts}
    for key in others:
        for path, text in texts.items():
            assert key not in text, f"{key} in {path}"
    records = [str(event) for event in inventoried.instance.all_logs(inventoried.instance.get_runs()[0].run_id)]
    assert not any(key in record for key in others for record in records)


def test_denied_account_is_a_failed_platform_and_the_others_say_why_they_are_skipped(inventoried):
    rows = _rows(inventoried.url, sa.select(platforms))
    by_account: dict[str, list[dict]] = {}
    for row in rows:
        by_account.setdefault(row["account_id"], []).append(row)
    assert sorted(r["region"] for r in by_account[DENIED]) == ["eu-west-1", "us-east-1"]
    for row in by_account[DENIED]:
        assert row["status"] == "failed" and row["last_error"].startswith("AccessDenied: ")
        assert "sts:AssumeRole" in row["last_error"] and row["account_name"] == "ml-training"
    reasons = {account: (r[0]["region"], r[0]["status"], r[0]["last_error"]) for account, r in by_account.items()
               if account in {SUSPENDED, EXCLUDED, OUTSIDE, MANAGEMENT}}
    assert reasons == {
        SUSPENDED: ("*", "skipped", "SUSPENDED: only ACTIVE accounts are inventoried"),
        EXCLUDED: ("*", "skipped", "excluded by organization.exclude_accounts"),
        OUTSIDE: ("*", "skipped", "outside organization.include_ous"),
        MANAGEMENT: ("*", "skipped", "outside organization.include_ous"),
    }
    healthy = [r for r in rows if r["account_id"] in HEALTHY]
    assert {(r["account_id"], r["region"], r["status"], r["source"]) for r in healthy} == {
        (a, region, "ok", "organization") for a in HEALTHY for region in ("us-east-1", "eu-west-1")}
    assert {r["ou_path"] for r in healthy} == {"Root/Workloads/Prod", "Root/Workloads/Dev/Analytics"}

    check = no_platform_failed(inventory_db=InventoryDatabase(url=inventoried.url))
    assert not check.passed
    assert {(p["platform"], p["region"]) for p in check.metadata["failed_platforms"].value} == {
        (DENIED, "us-east-1"), (DENIED, "eu-west-1")}
    materialization = inventoried.instance.fetch_materializations(dg.AssetKey("glue_jobs"), limit=1).records[0]
    metadata = materialization.asset_materialization.metadata
    assert metadata["accounts_skipped"].value == 4 and metadata["platforms_failed"].value == 2
    assert {s["account_id"] for s in metadata["skipped_accounts"].value} == {SUSPENDED, EXCLUDED, OUTSIDE,
                                                                             MANAGEMENT}


def test_same_job_name_in_two_accounts_is_two_jobs_two_partitions_two_reports(inventoried):
    keys = {encode_partition_key(account, "us-east-1", SHARED_NAME) for account in HEALTHY}
    rows = _rows(inventoried.url, sa.select(data_jobs.c.partition_key, data_jobs.c.platform_id)
                 .where(data_jobs.c.name == SHARED_NAME))
    assert {r["partition_key"] for r in rows} == keys and len({r["platform_id"] for r in rows}) == 2
    assert keys <= set(inventoried.instance.get_dynamic_partitions(glue_jobs_partitions.name))
    reports = {inventoried.reports / job_report_relpath(key) for key in keys}
    assert len(reports) == 2 and all(path.is_file() for path in reports)


def test_deep_analysis_of_healthy_jobs_succeeds_beside_the_denied_account(inventoried):
    keys = sorted(encode_partition_key(account, "us-east-1", SHARED_NAME) for account in HEALTHY)
    engine = engine_for(inventoried.url)
    for asset in ("job_cloudwatch_metrics", "job_script"):
        for key, result in read_artifacts(engine, asset, keys).items():
            assert result.get("error") is None, (asset, key, result)
    deep = _rows(inventoried.url, sa.select(data_jobs.c.partition_key, analysis_runs.c.status).join(
        analysis_runs, analysis_runs.c.data_job_id == data_jobs.c.id).where(analysis_runs.c.analysis_type == "deep"))
    assert sorted((r["partition_key"], r["status"]) for r in deep) == [(key, "succeeded") for key in keys]


def test_reports_break_spend_down_by_account_and_ou(inventoried):
    numbers = json.loads((inventoried.reports / "executive.json").read_text(encoding="utf-8"))["accounts"]
    by_account = {a["account_id"]: a for a in numbers["by_account"]}
    assert set(by_account) == HEALTHY
    assert by_account["111111111111"]["account_name"] == "payments-prod"
    jobs = {r["partition_key"]: r for r in _rows(inventoried.url, sa.select(data_jobs))}
    for account in HEALTHY:
        spend = sum(j["metrics"]["monthly_projection_usd"] for k, j in jobs.items() if k.startswith(account))
        assert by_account[account]["monthly_projection_usd"] == pytest.approx(spend, abs=0.01)
        assert by_account[account]["live_jobs"] == sum(1 for k in jobs if k.startswith(account))
    assert {o["ou_path"] for o in numbers["by_ou"]} == {"Root/Workloads/Prod", "Root/Workloads/Dev/Analytics"}
    health = numbers["health"]
    assert (health["accounts_reached"], health["failed"], health["skipped"]) == (2, 2, 4)
    summary = (inventoried.reports / "executive_summary.md").read_text(encoding="utf-8")
    assert "## By account" in summary and "| payments-prod | 111111111111 |" in summary
    assert "## Platform health" in summary and "AccessDenied" in summary
    dashboard = (inventoried.reports / "dashboard.html").read_text(encoding="utf-8")
    assert "Platform health" in dashboard and "ml-training" in dashboard


def test_bad_organization_sections_fail_glue_jobs_in_one_line(tmp_path, monkeypatch):
    # Accounts of their own: the module's Organization is still being served.
    members = tuple(replace(a, account_id="7" + a.account_id[1:]) for a in MEMBERS)
    fleet = build_organization(16, 4, datetime.now(UTC), management_account_id="930000000001", members=members)
    with start_simulator(fleet) as sim:
        point_at(sim, monkeypatch)
        monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", f"sqlite:///{tmp_path / 'inventory.db'}")
        base = fleet.organization.config_yaml(["us-east-1"])
        cases = [
            (base + "  regoins: [eu-west-1]\n", "organization.regoins: unknown key"),
            (base.replace("ou-gi00-00000002", "ou-gi00-99999999"),
             "organization.include_ous: ou-gi00-99999999 is not an OU of this Organization"),
        ]
        for text, expected in cases:
            config = tmp_path / "config.yaml"
            config.write_text(text)
            monkeypatch.setenv("GLUE_INVENTORY_CONFIG", str(config))
            message = glue_jobs_failure()
            assert expected in message and "\n" not in message, message
        config.write_text(base)
        sim.inject(Fault("ListRoots", code="AccessDeniedException", message="User: arn:aws:iam::930000000001:"
                         "user/tool is not authorized to perform: organizations:ListRoots"))
        message = glue_jobs_failure()
        assert "organizations:ListRoots" in message and "iam/glue-inventory-organization.json" in message
        assert "\n" not in message



def test_accounts_move_from_platforms_to_discovery_and_leave_the_organization(tmp_path, monkeypatch):
    members = tuple(replace(a, account_id="9" + a.account_id[1:]) for a in MEMBERS)
    prod, dev = members[0].account_id, members[1].account_id
    fleet = build_organization(16, 6, datetime.now(UTC), management_account_id="950000000001", members=members)
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    config = tmp_path / "config.yaml"
    with start_simulator(fleet) as sim, dg.DagsterInstance.ephemeral() as instance:
        point_at(sim, monkeypatch)
        monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", url)
        monkeypatch.setenv("GLUE_INVENTORY_CONFIG", str(config))
        # First listed by hand, then discovered: the jobs stay the same rows under the discovered platform.
        config.write_text(f"platforms:\n  - name: by-hand\n    regions: [us-east-1]\n"
                          f"    role_arn: {fleet.organization.role_arn(prod)}\n")
        materialize(instance, ["glue_jobs"])
        by_hand = {r["partition_key"]: r["id"] for r in _rows(url, sa.select(data_jobs))}
        config.write_text(fleet.organization.config_yaml(["us-east-1"], exclude=members[4].account_id))
        materialize(instance, ["glue_jobs"])
        jobs = {r["partition_key"]: r for r in _rows(url, sa.select(data_jobs))}
        assert {key: jobs[key]["id"] for key in by_hand} == by_hand
        assert {j["partition_key"].split("/")[0] for j in jobs.values()} == {prod, dev}
        stored = _rows(url, sa.select(platforms))
        owners = {r["id"]: r["name"] for r in stored}
        assert {owners[jobs[key]["platform_id"]] for key in by_hand} == {prod}
        assert [(r["status"], r["last_error"]) for r in stored if r["name"] == "by-hand"] == [
            ("skipped", f"listed as platform {prod} now")]

        organizations_backends = pytest.importorskip("moto.organizations.models").organizations_backends
        organizations_backends["950000000001"]["aws"].remove_account_from_organization(AccountId=dev)
        materialize(instance, ["glue_jobs"])
        partitions = set(instance.get_dynamic_partitions(glue_jobs_partitions.name))
    left = {r["partition_key"]: r["status"] for r in _rows(url, sa.select(data_jobs))
            if r["partition_key"].startswith(dev)}
    assert left and set(left.values()) == {"deleted"} and not partitions & set(left)
    assert {k for k in partitions if k.startswith(prod)} == {k for k in jobs if k.startswith(prod)}
    retired = [r for r in _rows(url, sa.select(platforms)) if r["account_id"] == dev]
    assert [(r["status"], r["last_error"]) for r in retired] == [
        ("skipped", "not in the Organization (nor in platforms:) any more")]
