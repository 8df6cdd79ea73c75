"""The bill per job on the simulated estate: the CUR 2.0 export the simulator writes, read by glue_billed_costs,
reconciled with the estimate in the tables and every report; skips and failures leave the rest working."""

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import s3fs
import sqlalchemy as sa

from glue_inventory.analysis.cost.reconcile import billing_window
from glue_inventory.keys import encode_partition_key
from glue_inventory.orchestration.assets import DEEP_ASSET_KEYS
from glue_inventory.pipeline import materialize, run_pipeline
from glue_inventory.reports.paths import job_report_relpath
from glue_inventory.simulate import build_fleet, start_simulator
from glue_inventory.simulate.cur import EXPORT_NAME, PREFIX, SCHEMA, build_cur_export, other_services, parquet_files
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.jobs import read_jobs
from glue_inventory.storage.tables import data_jobs, deep_analysis_candidates, job_billed_costs

ACCOUNT = "345678901234"
BILLED = dg.AssetKey("glue_billed_costs")


@pytest.fixture(scope="module")
def estate():
    """A 40-job fleet (every archetype) with its CUR export, in an account of its own."""
    with start_simulator(build_fleet(40, 15, datetime.now(UTC), account_id=ACCOUNT)) as sim:
        sim.write_cur_export()
        yield sim


def _configure(sim, monkeypatch, tmp_path: Path, url: str, billing: str | None) -> None:
    for name, value in sim.env().items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config.yaml"
    config.write_text(f"platforms:\n  - name: sim\n    regions: [{', '.join(sim.fleet.regions)}]\n"
                      + (f"billing:\n  cur_uri: {billing}\n" if billing else ""))
    monkeypatch.setenv("GLUE_INVENTORY_CONFIG", str(config))
    monkeypatch.setenv("GLUE_INVENTORY_DATABASE_URL", url)
    monkeypatch.setenv("GLUE_INVENTORY_REPORTS_DIR", str(tmp_path / "reports"))
    s3fs.S3FileSystem.clear_instance_cache()


def _metrics(url: str) -> dict[str, dict]:
    """Each job's metrics as every reader sees them: the preliminary metrics with the billed fields of `job_costs`."""
    return {key: job["metrics"] for key, job in read_jobs(engine_for(url)).items() if job["metrics"]}


def _key(sim_key: str) -> str:
    return encode_partition_key(*sim_key.split("/", 2))


def _metadata(instance: dg.DagsterInstance) -> dict:
    record = instance.fetch_materializations(BILLED, limit=1).records[0]
    return {name: value.value for name, value in record.asset_materialization.metadata.items()}


def test_every_jobs_bill_equals_its_usage_line_items_and_the_reports_show_it(estate, database_url, tmp_path,
                                                                               monkeypatch):
    _configure(estate, monkeypatch, tmp_path, database_url, estate.cur_export.uri)
    export = estate.cur_export
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)
        over_budget = _key(export.planted["over_budget"])
        candidates = _current_candidates(database_url)
        materialize(instance, DEEP_ASSET_KEYS, partition_key=over_budget)
        materialize(instance, ["executive_report"])
        metadata = _metadata(instance)
    window = billing_window(datetime.now(UTC))
    expected = {_key(key): usd for key, usd in export.billed_by_job(*window).items()}
    metrics = _metrics(database_url)
    # Every job's bill is the sum of its usage line items of the window, to the cent.
    assert {key: round(m["billed_30d_usd"], 2) for key, m in metrics.items()} == {
        key: round(expected.get(key, 0.0), 2) for key in metrics}
    assert sum(1 for m in metrics.values() if m["billed_30d_usd"]) > 10
    assert all(m["cost_basis"] == "billed" for m in metrics.values())
    assert metadata["configured"] and metadata["skipped"] == 0 and metadata["line_items_read"] > 0
    assert metadata["unknown_job_resources"] == 1  # the job deleted before the inventory first listed it
    # The planted differences: a job billed four times its runs, Savings Plans on two others.
    assert metrics[over_budget]["billed_far_above_estimate"]
    assert metrics[over_budget]["billed_30d_usd"] == pytest.approx(4 * metrics[over_budget]["estimate_billed_days_usd"])
    for key in export.planted["savings_plan"]:
        assert "Savings Plans cover" in metrics[_key(key)]["billed_difference_cause"]
        assert metrics[_key(key)]["billed_net_30d_usd"] < metrics[_key(key)]["billed_30d_usd"]
    reports = tmp_path / "reports"
    numbers = json.loads((reports / "executive.json").read_text())["billing"]
    kinds = export.billed_by_kind(*window)
    not_jobs = {line["kind"]: line for line in numbers["not_jobs"]}
    # Crawler and session spend are reported apart from jobs.
    assert not_jobs["crawler"]["billed_usd"] == round(kinds["crawler"], 2)
    assert not_jobs["interactive_session"]["billed_usd"] == round(kinds["session"], 2)
    assert not_jobs["data_catalog"]["billed_usd"] == round(kinds["catalog"], 2)
    assert not_jobs["adjustments"]["billed_usd"] == round(kinds.get("credit", 0) + kinds.get("tax", 0), 2)
    assert [job["key"] for job in numbers["unknown_jobs"]] == [export.planted["deleted_job"]]
    assert numbers["jobs_billed_usd"] == round(sum(expected.get(key, 0.0) for key in metrics), 2)
    assert [job["key"] for job in numbers["far_above"]] == [over_budget]
    summary = (reports / "executive_summary.md").read_text()
    section = summary.split("### Billed far above the estimate", 1)[1].split("###", 1)[0]
    assert over_budget.split("/", 2)[2] in section
    assert "## Estimate vs billed, per job, and what is not jobs" in summary and "| Crawlers |" in summary
    job_report = (reports / job_report_relpath(over_budget)).read_text()
    assert "Billed in the Cost and Usage Report" in job_report and "far above the estimate" in job_report
    inventory = {job["key"]: job for job in json.loads((reports / "inventory.json").read_text())["jobs"]}
    assert inventory[over_budget]["billed_30d_usd"] == round(metrics[over_budget]["billed_30d_usd"], 2)
    assert "billed_30d_usd,billed_net_30d_usd" in (reports / "inventory.csv").read_text().splitlines()[0]
    dashboard = (reports / "dashboard.html").read_text()
    assert 'id="spend-billed"' in dashboard and '<th data-col="billed_30d_usd"' in dashboard
    # Candidates rest on the bill: the over-budget job is high_cost with 30 % of its bill as the saving; after its
    # deep analysis, what right-sizing measured replaces that estimate.
    candidate = candidates[over_budget]
    assert "high_cost" in candidate["reasons"] and candidate["savings_basis"] == "rule_of_thumb"
    assert candidate["savings_by_reason"]["high_cost"] == pytest.approx(0.3 * metrics[over_budget]["billed_30d_usd"])
    bases = {"measured", "exact", "rule_of_thumb", None}
    assert {row["savings_basis"] for row in candidates.values()} <= bases - {"measured"}  # nothing measured yet
    assert {row["savings_basis"] for row in _current_candidates(database_url).values()} <= bases


def _current_candidates(url: str) -> dict[str, dict]:
    with engine_for(url).connect() as conn:
        rows = conn.execute(sa.select(data_jobs.c.partition_key, deep_analysis_candidates)
                            .join(data_jobs, data_jobs.c.id == deep_analysis_candidates.c.data_job_id)
                            .where(deep_analysis_candidates.c.is_current)).mappings().all()
    return {row["partition_key"]: dict(row) for row in rows}


def _lines(url: str) -> dict[str, tuple[int, float]]:
    table = job_billed_costs
    with engine_for(url).connect() as conn:
        return {period: (count, total) for period, count, total in conn.execute(
            sa.select(table.c.billing_period, sa.func.count(), sa.func.sum(table.c.unblended_cost_usd))
            .group_by(table.c.billing_period))}


def _put(sim, relpath: str, table: pa.Table) -> None:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    _s3(sim).put_object(Bucket=sim.cur_export.bucket, Key=f"{PREFIX}/{EXPORT_NAME}/{relpath}",
                                  Body=sink.getvalue())


def _s3(sim):
    env = sim.env()
    return boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])


def _previous_period() -> str:
    return billing_window(datetime.now(UTC))[0].strftime("%Y-%m")


def test_rereading_replaces_each_period_and_a_bad_or_empty_period_keeps_what_was_stored(estate, sqlite_url, tmp_path,
                                                                                         monkeypatch):
    _configure(estate, monkeypatch, tmp_path, sqlite_url, estate.cur_export.uri)
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            materialize(instance, ["glue_jobs"])
            materialize(instance, [BILLED])
            first = _lines(sqlite_url)
            materialize(instance, [BILLED])
            assert _lines(sqlite_url) == first  # read again: replaced, never added to
            period = _previous_period()
            lines, _ = build_cur_export(estate.fleet)
            # AWS restates the period: fewer line items now.
            restated = [line for line in lines
                        if line["bill_billing_period_start_date"].strftime("%Y-%m") == period][::2]
            for key, (data, _) in parquet_files(restated).items():
                _s3(estate).put_object(Bucket=estate.cur_export.bucket, Key=f"{PREFIX}/{EXPORT_NAME}/{key}",
                                              Body=data)
            materialize(instance, [BILLED])
            after = _lines(sqlite_url)
            assert after[period][0] < first[period][0]
            assert {p: v for p, v in after.items() if p != period} == {p: v for p, v in first.items() if p != period}
            # A file that is not a CUR: the period is skipped, the stored line items stay.
            bogus = f"data/BILLING_PERIOD={period}/{EXPORT_NAME}-00009.snappy.parquet"
            _put(estate, bogus, pa.table({"cost": [1.0]}))
            materialize(instance, [BILLED])
            _s3(estate).delete_object(Bucket=estate.cur_export.bucket, Key=f"{PREFIX}/{EXPORT_NAME}/{bogus}")
            metadata = _metadata(instance)
            assert metadata["skipped"] == 1
            assert f"{period}: " in metadata["skip_reasons"] and "missing column(s)" in metadata["skip_reasons"]
            assert "the stored line items of the period are kept" in metadata["skip_reasons"]
            assert _lines(sqlite_url) == after
            # A period with no Glue line item (only other services): skipped, what was stored stays.
            estate.write_cur_export()
            day = billing_window(datetime.now(UTC))[0]
            others = other_services(50, ACCOUNT, [datetime(day.year, day.month, day.day, tzinfo=UTC)], seed=1)
            for key, (data, _) in parquet_files([], others).items():
                _s3(estate).put_object(Bucket=estate.cur_export.bucket, Key=f"{PREFIX}/{EXPORT_NAME}/{key}",
                                              Body=data)
            materialize(instance, [BILLED])
            assert "none of its 2 file(s) holds an AWSGlue line item" in _metadata(instance)["skip_reasons"]
            assert _lines(sqlite_url)[period] == after[period]
    finally:
        estate.write_cur_export()


def _run(instance: dg.DagsterInstance, key: dg.AssetKey) -> dg.ExecuteInProcessResult:
    from glue_inventory.definitions import defs

    return defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance, asset_selection=[key], raise_on_error=False)


def test_a_missing_export_fails_in_one_line_and_the_reports_say_why_there_is_no_bill(estate, sqlite_url, tmp_path,
                                                                                     monkeypatch):
    _configure(estate, monkeypatch, tmp_path, sqlite_url, "s3://no-such-cur-bucket/cur/")
    with dg.DagsterInstance.ephemeral() as instance:
        run_pipeline(instance, log=lambda _: None)  # the bill failing does not stop the pipeline
        result = _run(instance, BILLED)
        assert not result.success
        error = result.get_step_failure_events()[0].step_failure_data.user_failure_data.description
        assert error == "billing.cur_uri s3://no-such-cur-bucket/cur/: no such bucket — check the bucket name"
    summary = (tmp_path / "reports" / "executive_summary.md").read_text()
    assert ("Billed spend: not available — the billing export has no Glue line items for "
            in summary) and "glue_billed_costs has not loaded any yet" in summary
    metrics = _metrics(sqlite_url)
    assert all(m["billed_30d_usd"] is None and m["cost_basis"] == "estimate" for m in metrics.values())


def test_without_billing_nothing_is_read_and_no_spend_shows_as_zero(estate, sqlite_url, tmp_path, monkeypatch):
    _configure(estate, monkeypatch, tmp_path, sqlite_url, None)
    from moto.ce.models import ce_backends

    ce = ce_backends[ACCOUNT]["global"]
    queue, answered = ce.cost_usage_results_queue, ce.cost_usage_results
    ce.cost_usage_results_queue, ce.cost_usage_results = [], {}  # Cost Explorer has no data
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            run_pipeline(instance, log=lambda _: None)
            assert instance.fetch_materializations(BILLED, limit=1).records == []  # not run without billing:
            assert _run(instance, BILLED).success
            assert _metadata(instance)["configured"] is False
    finally:
        ce.cost_usage_results_queue, ce.cost_usage_results = queue, answered
    assert _lines(sqlite_url) == {}
    assert not any("billed_30d_usd" in m for m in _metrics(sqlite_url).values())
    reports = tmp_path / "reports"
    summary = (reports / "executive_summary.md").read_text()
    headline = next(line for line in summary.splitlines() if line.startswith("- **Monthly spend"))
    assert "billed spend not available (no billing export configured (billing.cur_uri in the config file))" in headline
    assert "Cost Explorer not available (Cost Explorer has no Glue spend for " in headline
    assert "$0.00" not in headline.split("**", 2)[2]
    dashboard = (reports / "dashboard.html").read_text()
    assert 'id="spend-unavailable">not available<' in dashboard and 'id="spend-actual"' not in dashboard
    assert '<th data-col="billed_30d_usd"' not in dashboard
    assert json.loads((reports / "executive.json").read_text())["spend"]["actual_30d_usd"] is None


def test_the_simulated_export_is_a_cur2_export_in_several_files(estate):
    keys = [obj["Key"] for obj in _s3(estate).list_objects_v2(Bucket=estate.cur_export.bucket)["Contents"]]
    data = [key for key in keys if key.endswith(".parquet")]
    assert all(key.startswith(f"{PREFIX}/{EXPORT_NAME}/data/BILLING_PERIOD=") for key in data)
    assert len(data) >= 6 and any(key.endswith("-Manifest.json") for key in keys)
    body = _s3(estate).get_object(Bucket=estate.cur_export.bucket, Key=data[0])["Body"].read()
    assert pq.read_schema(io.BytesIO(body)).names == SCHEMA.names
    flex = [line for line in estate.cur_export.glue_lines if "Flex" in line["line_item_usage_type"]]
    assert flex and all(line["line_item_unblended_cost"] == pytest.approx(0.29 * line["line_item_usage_amount"])
                        for line in flex)


def test_an_organizations_bill_names_the_accounts_the_inventory_does_not_reach(tmp_path):
    """The export of an Organization bills every member account: jobs of accounts left out (suspended, denied,
    excluded, outside the OUs) are billed but not in the inventory, each account with the reason it is left out."""
    from dataclasses import replace

    from glue_inventory.pipeline import environment
    from glue_inventory.simulate import build_organization
    from glue_inventory.simulate.organization import MEMBERS
    from glue_inventory.storage.db import dispose_engines

    members = tuple(replace(a, account_id="8" + a.account_id[1:]) for a in MEMBERS)
    fleet = build_organization(24, 5, datetime.now(UTC), management_account_id="980000000001", members=members)
    with start_simulator(fleet) as sim:
        export = sim.write_cur_export()
        config = tmp_path / "config.yaml"
        config.write_text(fleet.organization.config_yaml(["us-east-1", "eu-west-1"], exclude=members[4].account_id)
                          + f"billing:\n  cur_uri: {export.uri}\n")
        with environment(sim.env() | {
            "AWS_PROFILE": None, "OPENAI_API_KEY": None, "GLUE_INVENTORY_CONFIG": str(config),
            "GLUE_INVENTORY_DATABASE_URL": f"sqlite:///{tmp_path / 'inventory.db'}",
            "GLUE_INVENTORY_REPORTS_DIR": str(tmp_path / "reports"),
        }), dg.DagsterInstance.ephemeral() as instance:
            s3fs.S3FileSystem.clear_instance_cache()
            run_pipeline(instance, log=lambda _: None)
            materialize(instance, ["executive_report"])
    dispose_engines()
    numbers = json.loads((tmp_path / "reports" / "executive.json").read_text())["billing"]
    reached = {a.account_id for a in fleet.organization.inventoried(exclude=members[4].account_id)}
    unknown = {a["account_id"]: a for a in numbers["unknown_accounts"]}
    suspended = next(a for a in members if a.status == "SUSPENDED")
    assert suspended.account_id in unknown and "SUSPENDED" in unknown[suspended.account_id]["why"]
    assert unknown[suspended.account_id]["account_name"] == suspended.name
    billed_elsewhere = {_key(key).split("/")[0] for key in export.billed_by_job(*billing_window(datetime.now(UTC)))}
    assert (billed_elsewhere - reached - {fleet.account_id}) <= set(unknown)
    assert not reached & {a for a, entry in unknown.items() if "not inventoried" in entry["why"]}
    assert [job["key"] for job in numbers["far_above"]] == [_key(export.planted["over_budget"])]
    assert _key(export.planted["over_budget"]).split("/")[0] in reached
