"""services.cost.bill, called directly on a stored inventory and the simulator's CUR export: each job's bill of
the window is the simulator's line items, reaches every reader through `job_costs`, and without `billing:`
nothing is read and every job says why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import s3fs

from glue_inventory.analysis.cost.reconcile import NOT_CONFIGURED, billing_window
from glue_inventory.config import BillingSettings, ConfigError
from glue_inventory.services.cost.bill import (
    billing_session,
    billing_summary,
    billing_view,
    load_billed_costs,
    view_fields,
)
from glue_inventory.simulate.cur import DELETED_JOB
from glue_inventory.storage.jobs import read_jobs
from glue_inventory_tests.services.conftest import partition_key


def _export_and_load(inventory, now: datetime, run_id: str, written_at: datetime | None = None):
    """The simulator's CUR export written (as of `written_at`, default the fleet's day) and loaded as of `now`."""
    export = inventory.sim.write_cur_export(**({"now": written_at} if written_at else {}))
    s3fs.S3FileSystem.clear_instance_cache()
    settings = inventory.settings.model_copy(update={"billing": BillingSettings(cur_uri=export.uri)})
    load = load_billed_costs(settings, inventory.sessions, inventory.engine, now, lambda _: None, run_id)
    return export, settings, load


@pytest.fixture(scope="module")
def billed(inventory):
    now = datetime.now(UTC)
    export, settings, load = _export_and_load(inventory, now, "services-bill")
    return export, settings, now, load


def test_the_load_stores_the_periods_of_the_export_and_every_jobs_billed_fields(inventory, billed):
    _, _, now, load = billed
    assert load.configured and load.periods and all(rows > 0 for rows in load.periods.values())
    # The export bills one job the inventory never saw: the deleted job the simulator plants.
    assert load.skipped == [] and load.unknown_resources == 1
    assert load.jobs_updated == len(inventory.truth)
    assert load.through is not None and load.through >= billing_window(now)[1]


def test_each_jobs_bill_of_the_window_is_the_simulators_line_items(inventory, billed):
    export, settings, now, _ = billed
    window = billing_window(now, settings.thresholds.window_days)
    expected = {partition_key(key): usd for key, usd in export.billed_by_job(*window).items()}
    assert expected
    jobs = read_jobs(inventory.engine)
    view = billing_view(inventory.engine, settings, jobs, now)
    assert view.available
    got = {key: fields["billed_30d_usd"] for key, fields in view.reconciliation.jobs.items()}
    assert got == pytest.approx({key: expected.get(key, 0.0) for key in got}, abs=0.01)
    assert set(expected) - set(got) == {partition_key(f"{inventory.sim.fleet.account_id}/us-east-1/{DELETED_JOB}")}
    # Every reader gets the same bill through job_costs.
    assert {key: job["metrics"]["billed_30d_usd"] for key, job in jobs.items()} == pytest.approx(got, abs=0.01)
    only = billing_view(inventory.engine, settings, dict(list(jobs.items())[:3]), now, only_jobs=True)
    assert set(only.reconciliation.jobs) == set(list(jobs)[:3])
    assert billing_summary(view)["available"] is True


def test_without_billing_nothing_is_read_and_every_job_says_why(inventory):
    load = load_billed_costs(inventory.settings, inventory.sessions, inventory.engine, datetime.now(UTC),
                             lambda _: None)
    assert (load.configured, load.skipped, load.periods) == (False, [NOT_CONFIGURED], {})
    jobs = read_jobs(inventory.engine)
    view = billing_view(inventory.engine, inventory.settings, jobs, datetime.now(UTC))
    assert not view.available and billing_summary(view) == {"available": False, "reason": NOT_CONFIGURED}
    fields = view_fields(view, jobs)
    assert set(fields) == set(jobs)
    assert all(row == {"billed_30d_usd": None, "cost_basis": "estimate", "billed_unavailable_reason": NOT_CONFIGURED}
               for row in fields.values())


def test_a_billing_platform_no_platform_is_named_is_refused_with_the_names_to_use(inventory):
    settings = inventory.settings.model_copy(update={"billing": BillingSettings(cur_uri="s3://bucket/cur/",
                                                                                platform="payer")})
    with pytest.raises(ConfigError, match=r"billing.platform 'payer': no configured platform has that name .*'sim'"):
        billing_session(settings, inventory.sessions)


def test_a_job_billed_in_two_periods_is_one_job_the_inventory_never_saw(inventory):
    # The simulator bills its planted deleted job 6 to 18 days before the export's day: seen from the 10th of a
    # month, in that month and the one before. (Last in this module: it replaces the export and the periods.)
    tenth = inventory.sim.fleet.now.replace(day=10)
    export, _, load = _export_and_load(inventory, tenth, "two-periods", written_at=tenth)
    deleted = export.planted["deleted_job"]
    periods = {line["bill_billing_period_start_date"].strftime("%Y-%m") for line in export.glue_lines
               if line["sim_key"] == deleted}
    assert len(periods) == 2
    assert set(load.periods) >= periods
    assert load.unknown_resources == 1
