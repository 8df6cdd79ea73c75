"""`make demo`: the whole pipeline on a simulated fleet, into SQLite under `.glue_inventory/`.

The simulator (moto) is an optional extra: `pip install 'glue-inventory[simulator]'`.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import dagster as dg

from glue_inventory import DAGSTER_SPEED_ENV
from glue_inventory.config import DEFAULT_REPORTS_DIR, read_environment
from glue_inventory.pipeline import environment, run_pipeline
from glue_inventory.storage.candidates import current_totals
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.jobs import status_counts
from glue_inventory.storage.platforms import platform_rows

# The demo analyses ten jobs in depth, five by saving and five by risk; deployments use the lanes of the config.
DEMO_DEEP_JOBS = 10
SIMULATOR_PACKAGES = {"moto", "werkzeug", "flask"}
SIMULATOR_MISSING = ("the simulator is not installed — pip install 'glue-inventory[simulator]' "
                     "(or run make demo from a clone)")
# The demo's own Dagster instance: no telemetry, no "Join the Dagster community" dialog in the UI.
INSTANCE_CONFIG = "telemetry:\n  enabled: false\nnux:\n  enabled: false\n"
# Dagster's own log lines (one or more per asset and job) go here, not to the terminal; `make ui` shows each run's.
LOG_FILE = "demo.log"
REPORT_FILES = ("inventory.json", "inventory.csv", "candidates.json", "candidates.csv", "inventory_summary.md",
                "executive_summary.md", "dashboard.html", "executive.json", "remediation.json")


class DemoError(RuntimeError):
    """The demo cannot start; the message says why and what to do."""


def demo_environment(home: str) -> dict[str, str]:
    root = Path(home).resolve()
    return {
        "GLUE_INVENTORY_DATABASE_URL": f"sqlite:///{root / 'inventory.db'}",
        "GLUE_INVENTORY_REPORTS_DIR": str(root / "reports"),
        "DAGSTER_HOME": str(root / "dagster_home"),
        # Browsing the demo data must not start refreshes against whatever AWS the shell points at.
        "GLUE_INVENTORY_AUTOMATION": "off",
        **DAGSTER_SPEED_ENV,
    }


def prepare_home(home: str) -> None:
    """The demo's folders and its Dagster instance config (kept when the user has one of their own)."""
    root = Path(home)
    try:
        (root / "dagster_home").mkdir(parents=True, exist_ok=True)
        instance_config = root / "dagster_home" / "dagster.yaml"
        if not instance_config.exists() or "nux:" not in instance_config.read_text():
            instance_config.write_text(INSTANCE_CONFIG)
        probe = root / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise DemoError(f"cannot write to {root}/ ({exc.strerror}) — make it writable or pass --home DIR") from None


def load_simulator() -> ModuleType:
    """`glue_inventory.simulate`, or a DemoError saying how to install it when moto is missing."""
    try:
        return importlib.import_module("glue_inventory.simulate")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in SIMULATOR_PACKAGES:
            raise DemoError(SIMULATOR_MISSING) from None
        raise


def run_demo(jobs: int, seed: int, home: str) -> int:
    simulate = load_simulator()
    if jobs < 1:
        raise DemoError(f"--jobs must be at least 1, got {jobs}")
    prepare_home(home)
    env = demo_environment(home)
    log_file = Path(home).resolve() / LOG_FILE
    log_file.write_text("", encoding="utf-8")  # this demo's lines only
    fleet = simulate.build_organization(jobs=jobs, seed=seed, now=datetime.now(UTC))
    # The simulated company is an AWS Organization with jobs in several Regions: the demo's config has only
    # an `organization:` section (its accounts are discovered).
    config = Path(home) / "config.yaml"
    config.write_text(fleet.organization.config_yaml(fleet.regions))
    env["GLUE_INVENTORY_CONFIG"] = str(config.resolve())
    with simulate.start_simulator(fleet) as sim, environment(env | {
        "AWS_ENDPOINT_URL": sim.endpoint_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_PROFILE": None,
    }):
        print(f"simulated Organization: {len(fleet.organization.accounts)} member accounts, {len(fleet.jobs)} jobs "
              f"(seed {seed}) at {sim.endpoint_url}")
        # The simulated bill: a CUR 2.0 export of the Organization in its management account's S3.
        export = sim.write_cur_export()
        with config.open("a", encoding="utf-8") as file:
            file.write(f"billing:\n  cur_uri: {export.uri}\n")
        with dg.DagsterInstance.get() as instance:
            run_pipeline(instance, deep_jobs=DEMO_DEEP_JOBS, log_file=log_file)
        print_summary(env)
    print(f"Dagster's log: {log_file} (each run's events also in the UI: make ui)")
    return 0


def print_accounts(engine) -> None:
    """Accounts reached, and each account that failed or was skipped with its reason (one line each)."""
    rows = platform_rows(engine)
    reached = {r["account_id"] for r in rows if r["status"] == "ok"}
    print(f"accounts: {len(reached)} reached, "
          + ", ".join(f"{len({r['account_id'] for r in rows if r['status'] == status})} {status}"
                      for status in ("failed", "skipped")))
    notes = {(r["account_id"], r["status"]): r for r in rows if r["status"] != "ok"}
    for (account, status), row in sorted(notes.items()):
        print(f"  {status}: {account} {row['account_name'] or ''} ({row['ou_path'] or 'no OU'}): {row['last_error']}")


def print_summary(env: dict[str, str]) -> None:
    settings = read_environment(env)
    engine = engine_for(settings.database_url)
    statuses = status_counts(engine)
    candidates, identified, potential = current_totals(engine)
    print("jobs by status: " + ", ".join(f"{k}={v}" for k, v in sorted(statuses.items(), key=str)))
    print(f"deep-analysis candidates: {candidates}, savings identified ${identified:,.2f}/month "
          f"(measured + exact), potential ${potential:,.2f}/month (rule of thumb, not yet measured)")
    print_accounts(engine)
    reports = Path(settings.reports_dir or DEFAULT_REPORTS_DIR)
    for name in REPORT_FILES:
        if (reports / name).exists():
            print(f"report: {reports / name}")
