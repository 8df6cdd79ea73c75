"""A platform whose role cannot be assumed fails only the jobs it serves, in every asset that calls AWS.

Three platforms configured by role ARN without `account_id` (as docs/configuration.md allows), each account behind
its own simulator; one role is denied from the start, a second is denied after the inventory ran. The
deep analysis of jobs in the healthy account completes, the other account's jobs carry the AWS error.
"""

from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa

from glue_inventory.orchestration.assets import DEEP_ASSET_KEYS
from glue_inventory.orchestration.automation.runs import RANGE_END, RANGE_START
from glue_inventory.orchestration.partitions import glue_jobs_partitions
from glue_inventory.pipeline import materialize, run_pipeline
from glue_inventory.simulate import Fault, build_fleet, start_simulator
from glue_inventory.storage.artifacts import read_artifacts
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.tables import analysis_runs, data_jobs, platforms

HEALTHY, LATER_DENIED, DENIED = "510987654321", "520987654321", "530987654321"


def _role(account: str) -> str:
    return f"arn:aws:iam::{account}:role/glue-inventory-readonly"


def _denied(account: str) -> Fault:
    return Fault("AssumeRole", code="AccessDenied", status=403, body_contains=account,
                 message=f"User: arn:aws:iam::{HEALTHY}:user/tool is not authorized to perform: "
                         f"sts:AssumeRole on resource: {_role(account)}")


@pytest.fixture
def two_accounts(sqlite_url, tmp_path, monkeypatch):
    now = datetime.now(UTC)
    with start_simulator(build_fleet(6, 11, now, account_id=HEALTHY)) as healthy, \
            start_simulator(build_fleet(6, 12, now, account_id=LATER_DENIED)) as later:
        for name, value in healthy.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", sqlite_url)
        monkeypatch.setenv("GLUE_INVENTORY_REPORTS_DIR", str(tmp_path / "reports"))
        config = tmp_path / "config.yaml"
        config.write_text("platforms:\n" + "".join(
            f"  - name: {name}\n    regions: [us-east-1]\n    role_arn: {_role(account)}\n"
            f"    endpoint_url: {sim.endpoint_url}\n"
            for name, account, sim in (("healthy", HEALTHY, healthy), ("later", LATER_DENIED, later),
                                       ("denied", DENIED, healthy))))
        monkeypatch.setenv("GLUE_INVENTORY_CONFIG", str(config))
        healthy.inject(_denied(DENIED))
        yield healthy, later, sqlite_url


def _rows(url, query):
    with engine_for(url).connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def test_deep_analysis_completes_for_healthy_accounts_beside_broken_ones(two_accounts):
    healthy, later, url = two_accounts
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
        by_name = {p["name"]: p for p in _rows(url, sa.select(platforms))}
        assert by_name["denied"]["status"] == "failed"
        assert "AccessDenied" in by_name["denied"]["last_error"]
        assert by_name["healthy"]["status"] == by_name["later"]["status"] == "ok"

        later.inject(_denied(LATER_DENIED))
        keys = instance.get_dynamic_partitions(glue_jobs_partitions.name)
        assert {key.split("/")[0] for key in keys} == {HEALTHY, LATER_DENIED}
        materialize(instance, DEEP_ASSET_KEYS, {RANGE_START: keys[0], RANGE_END: keys[-1]})

    engine = engine_for(url)
    cloudwatch = read_artifacts(engine, "job_cloudwatch_metrics", keys)
    scripts = read_artifacts(engine, "job_script", keys)
    for key in keys:
        if key.startswith(HEALTHY):
            assert cloudwatch[key]["error"] is None, cloudwatch[key]
            assert scripts[key].get("error") is None and scripts[key]["kind"] != "missing", scripts[key]
        else:
            for result in (cloudwatch[key], scripts[key]):
                assert "platform later/us-east-1: AccessDenied" in result["error"]
                assert "sts:AssumeRole" in result["error"]
    deep = _rows(url, sa.select(data_jobs.c.partition_key).join(
        analysis_runs, analysis_runs.c.data_job_id == data_jobs.c.id).where(analysis_runs.c.analysis_type == "deep"))
    assert sorted(row["partition_key"] for row in deep) == sorted(keys)
