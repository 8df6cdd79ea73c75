"""Remediation plans: the exact change each concrete action makes to a Glue job, as steps the tool can apply,
with the expected monthly saving, the risk and a fingerprint of the job's configuration the plan was made for.

Plain data in (a `data_jobs` row with its metrics, the candidate's reasons and savings, the latest right-sizing,
the triggers of its Region), plain data out. Nothing here calls AWS; `remediation_commands` renders the same
steps as AWS CLI commands and a Terraform diff.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from glue_inventory.analysis.actions.notes import RISKS, migration_notes, upgrade_target
from glue_inventory.analysis.actions.wording import REASON_ACTIONS
from glue_inventory.analysis.cost.dpu_estimate import capacity_dpu
from glue_inventory.analysis.status import version_tuple
from glue_inventory.analysis.types import SPARK_JOB_TYPES, JobSpec

APPROVE_TAG = "glue-inventory:approve"
PLAN_KINDS = ("delete_job", "switch_flex", "rightsize", "enable_job_metrics", "upgrade_glue_version", "move_secrets")
# Either argument gives a deep analysis something to measure: CloudWatch job metrics, or Spark UI event logs.
JOB_METRICS_ARGUMENT, SPARK_UI_ARGUMENT = "--enable-metrics", "--enable-spark-ui"
EVIDENCE_ARGUMENTS = (JOB_METRICS_ARGUMENT, SPARK_UI_ARGUMENT)
# AWS Glue developer guide, "Monitoring with AWS Glue Observability metrics": Glue 4.0 and later.
OBSERVABILITY_MIN_VERSION = (4, 0)
# What Glue job metrics cost: each is a CloudWatch custom metric (AWS Glue developer guide, "Monitoring AWS Glue
# using Amazon CloudWatch metrics": additional charges may apply), $0.30 a metric-month for the first 10,000
# (Amazon CloudWatch pricing, us-east-1), prorated by the hour over a 730-hour month. Glue publishes its job
# metrics (about 30 names, "AWS Glue job metrics") for each run (JobRunId) and for ALL runs; the observability
# metrics add about 20 ("AWS Glue Observability metrics").
CUSTOM_METRIC_MONTH_USD = 0.30
HOURS_PER_MONTH = 730
JOB_METRIC_NAMES = 30
OBSERVABILITY_METRIC_NAMES = 20
# What a job's configuration is, for the fingerprint: the attributes the plans change or depend on.
FINGERPRINT_FIELDS = ("job_type", "worker_type", "number_of_workers", "max_capacity", "glue_version",
                      "execution_class", "python_version", "script_location", "default_argument_names")
# Plan attribute → Glue API field (JobUpdate); Terraform's `aws_glue_job` uses the attribute names themselves.
# The Python version is nested: Command.PythonVersion in the API, `command { python_version }` in Terraform.
API_FIELDS = {"execution_class": "ExecutionClass", "worker_type": "WorkerType",
              "number_of_workers": "NumberOfWorkers", "max_capacity": "MaxCapacity", "glue_version": "GlueVersion"}
NESTED_API_FIELDS = {"python_version": ("Command", "PythonVersion")}
Row = Mapping[str, Any]


def configuration(job: Row) -> dict[str, Any]:
    """The fingerprinted configuration of a `data_jobs` row (or `spec_configuration` of a live job)."""
    config = {field: job.get(field) for field in FINGERPRINT_FIELDS}
    config["execution_class"] = (config["execution_class"] or "STANDARD").upper()
    config["default_argument_names"] = sorted(config["default_argument_names"] or [])
    if config["worker_type"]:
        config["max_capacity"] = None  # Glue derives it from the workers; it is not a setting of its own
    config["max_capacity"] = None if config["max_capacity"] is None else float(config["max_capacity"])
    return config


def spec_configuration(spec: JobSpec) -> dict[str, Any]:
    """The same configuration read from a live job definition (GetJob)."""
    return configuration({**{field: getattr(spec, field, None) for field in FINGERPRINT_FIELDS},
                          "default_argument_names": list(spec.default_arguments)})


def fingerprint(config: Row) -> str:
    """sha256 of the configuration as canonical JSON: any change of a fingerprinted attribute changes it."""
    text = json.dumps(configuration(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plan_id(key: str, kind: str, target: Row) -> str:
    """Stable while the job, the kind and the target state stay the same: an approval keeps its meaning."""
    text = json.dumps([key, kind, target], sort_keys=True, separators=(",", ":"), default=str)
    return "rp-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _changes(before: Row, after: Row) -> dict[str, dict[str, Any]]:
    return {name: {"before": before.get(name), "after": value} for name, value in after.items()
            if before.get(name) != value}


def _plan(job: Row, kind: str, reason: str | None, title: str, changes: dict, steps: list[dict], saving: float,
          applicable: bool = True, manual: str | None = None, notes: Sequence[str] = (),
          added_cost: float = 0.0) -> dict[str, Any]:
    cost = float(job.get("monthly_projection_usd") or 0.0)
    saving = max(0.0, min(float(saving or 0.0), cost))
    level, risk_text = RISKS[kind]
    return {
        "plan_id": plan_id(job["key"], kind, {name: c["after"] for name, c in changes.items()}),
        "kind": kind, "reason": reason, "title": title, "key": job["key"], "account_id": job["account_id"],
        "region": job["region"], "job_name": job["name"], "data_job_id": job.get("data_job_id"),
        "changes": changes, "steps": steps, "applicable": applicable, "manual": manual,
        "expected_monthly_savings_usd": saving, "monthly_cost_before_usd": cost,
        "monthly_cost_after_usd": cost - saving + added_cost, "added_monthly_cost_usd": added_cost,
        "risk": {"level": level, "notes": [risk_text, *notes]},
        "fingerprint": fingerprint(job), "configuration": configuration(job), "migration_notes": [],
    }


def _delete_plan(job: Row, saving: float, triggers: Sequence[Row] | None, triggers_error: str | None) -> dict:
    name = job["name"]
    starting = [t for t in triggers or [] if name in t.get("starts", [])]
    only_this = sorted(t["name"] for t in starting if set(t.get("starts", [])) == {name})
    shared = sorted(t["name"] for t in starting if set(t.get("starts", [])) != {name})
    watching = sorted(t["name"] for t in triggers or [] if name in t.get("watches", []))
    steps = [{"op": "archive_job"}, *({"op": "delete_trigger", "name": t} for t in only_this), {"op": "delete_job"}]
    notes, manual = [], None
    if triggers_error:
        manual = f"the Region's triggers could not be listed ({triggers_error}): delete them by hand"
    elif shared:
        manual = f"triggers {', '.join(shared)} also start other jobs: remove this job from their actions by hand"
    if watching:
        notes.append(f"conditional triggers {', '.join(watching)} wait for this job and will never fire again")
    changes = {"job": {"before": "exists", "after": "deleted"},
               **{f"trigger {t}": {"before": "exists", "after": "deleted"} for t in only_this}}
    return _plan(job, "delete_job", "inactive", REASON_ACTIONS["inactive"].title, changes, steps, saving,
                 applicable=manual is None, manual=manual, notes=notes)


def _update_plan(job: Row, kind: str, reason: str | None, title: str, after: dict[str, Any], saving: float,
                 notes: Sequence[str] = ()) -> dict:
    changes = _changes(configuration(job), after)
    return _plan(job, kind, reason, title, changes, [{"op": "update_job", "set": after}], saving, notes=notes)


def _rightsize_plan(job: Row, sizing: Row) -> dict | None:
    target = sizing.get("recommended") or {}
    if sizing.get("status") != "over_provisioned" or not target:
        return None
    if target.get("worker_type") and target.get("number_of_workers"):
        after = {"worker_type": target["worker_type"], "number_of_workers": int(target["number_of_workers"])}
        size = f"{after['number_of_workers']} × {after['worker_type']}"
    else:
        after = {"max_capacity": float(target.get("max_capacity") or target["dpu"])}
        size = f"MaxCapacity {after['max_capacity']:g} DPU"
    before_dpu = capacity_dpu(job.get("worker_type"), job.get("number_of_workers"), job.get("max_capacity"))
    evidence = sizing.get("evidence") or {}
    notes = [f"measured peak of {evidence.get('peak_needed_executors')} executors needed of "
             f"{evidence.get('available_executors')} available over {evidence.get('runs_with_metrics')} runs; "
             f"{before_dpu:g} → {target.get('dpu'):g} DPU"] if evidence.get("peak_needed_executors") else []
    if evidence.get("recommended_executors") is not None:  # from the Spark event logs' replay
        notes = [f"the tasks of {evidence.get('runs_with_event_logs')} runs' Spark event logs replayed on "
                 f"{evidence['recommended_executors']} executors instead of {evidence.get('executors_in_log')}: "
                 f"{evidence.get('predicted_s_now'):g} s → {evidence.get('predicted_s_recommended'):g} s predicted; "
                 f"{before_dpu:g} → {target.get('dpu'):g} DPU"]
    return _update_plan(job, "rightsize", "high_cost", f"Right-size to {size}", after,
                        sizing.get("estimated_monthly_savings_usd") or 0.0, notes)


def job_metrics_monthly_usd(job: Row, observability: bool) -> float:
    """What Glue job metrics would cost a month at the job's last 30 days of runs (constants above): each run's
    metrics for its whole hours, and the ALL-runs metrics for as many hours."""
    metrics = job.get("metrics") or {}
    runs = int(metrics.get("runs_30d") or 0)
    capacity = float(metrics.get("capacity_dpu") or 0.0)
    run_hours = float(metrics.get("dpu_hours_30d") or 0.0) / capacity if capacity else 0.0
    metric_hours = 2 * max(run_hours, runs)  # a run's metrics are billed for at least the hour they start in
    names = JOB_METRIC_NAMES + (OBSERVABILITY_METRIC_NAMES if observability else 0)
    return names * metric_hours * CUSTOM_METRIC_MONTH_USD / HOURS_PER_MONTH


def _metrics_plan(job: Row, reasons: Sequence[str]) -> dict | None:
    """For a high-cost Spark job with nothing a deep analysis can measure (no job metrics, no Spark UI): turn on
    the job metrics, so the next deep analysis right-sizes it from its own runs."""
    arguments = set(job.get("default_argument_names") or [])
    if "high_cost" not in reasons or job.get("job_type") not in SPARK_JOB_TYPES or arguments & set(EVIDENCE_ARGUMENTS):
        return None
    version = version_tuple(job.get("glue_version"))
    observability = version is not None and version >= OBSERVABILITY_MIN_VERSION
    added = {"--enable-metrics": "true", **({"--enable-observability-metrics": "true"} if observability else {})}
    cost = job_metrics_monthly_usd(job, observability)
    changes = {f"DefaultArguments {name}": {"before": None, "after": value} for name, value in added.items()}
    notes = [f"about ${cost:,.2f} a month of CloudWatch custom metrics at the last 30 days' runs; then the next deep "
             "analysis measures the saving the 30 % rule of thumb only guesses"]
    return _plan(job, "enable_job_metrics", "high_cost", "Enable job metrics so a deep analysis can measure the job",
                 changes, [{"op": "update_job", "add_arguments": added}], 0.0, notes=notes, added_cost=cost)


def _upgrade_plan(job: Row) -> dict:
    target = upgrade_target(job.get("job_type"))
    after: dict[str, Any] = {"glue_version": target}
    if job.get("python_version") == "2":
        after["python_version"] = "3"  # every supported Glue version runs Python 3 only
    title = f"{REASON_ACTIONS['eol_version'].title}: {job.get('glue_version') or '0.9 (unset)'} → {target}"
    plan = _update_plan(job, "upgrade_glue_version", "eol_version", title, after, 0.0)
    plan["migration_notes"] = migration_notes(job.get("job_type"), job.get("glue_version"))
    return plan


def _secrets_plan(job: Row) -> dict:
    names = sorted(job.get("secret_argument_names") or [])
    changes = {f"DefaultArguments {name}": {"before": "a secret value", "after": "removed (read from Secrets "
                                                                                "Manager)"} for name in names}
    steps = [{"op": "create_secret", "argument": name} for name in names] + \
            [{"op": "update_job", "remove_arguments": names}]
    return _plan(job, "move_secrets", "secrets_in_arguments", REASON_ACTIONS["secrets_in_arguments"].title,
                 changes, steps, 0.0, applicable=False,
                 manual="the script must read the secret from Secrets Manager first: change it, then apply by hand")


def plans_for_job(job: Row, reasons: Sequence[str], savings_by_reason: Mapping[str, float],
                  rightsizing: Row | None = None, triggers: Sequence[Row] | None = None,
                  triggers_error: str | None = None) -> list[dict[str, Any]]:
    """Every plan a job's candidate reasons and its latest right-sizing call for, in PLAN_KINDS order."""
    plans = []
    if "inactive" in reasons:
        plans.append(_delete_plan(job, savings_by_reason.get("inactive") or 0.0, triggers, triggers_error))
    else:
        # A job to be deleted needs no other change.
        if "flex_eligible" in reasons and (job.get("execution_class") or "STANDARD").upper() != "FLEX":
            plans.append(_update_plan(job, "switch_flex", "flex_eligible", REASON_ACTIONS["flex_eligible"].title,
                                      {"execution_class": "FLEX"}, savings_by_reason.get("flex_eligible") or 0.0))
        sized = _rightsize_plan(job, rightsizing or {}) or _metrics_plan(job, reasons)
        if sized:
            plans.append(sized)
        if "eol_version" in reasons:
            plans.append(_upgrade_plan(job))
    if "secrets_in_arguments" in reasons and job.get("secret_argument_names"):
        plans.append(_secrets_plan(job))
    return plans
