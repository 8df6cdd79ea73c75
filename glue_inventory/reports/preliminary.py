"""Reports of the preliminary analysis: the whole inventory and the candidates, as JSON, CSV and Markdown."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from glue_inventory.analysis.cost.savings import basis_of, fleet_savings
from glue_inventory.reports.billing import JOB_BILLED_MONEY
from glue_inventory.reports.formatting import (
    PRIORITY_ORDER,
    REASON_ORDER,
    STATUS_ORDER,
    cents,
    iso,
    markdown_env,
    ordered_keys,
    pick,
    rank,
    to_json,
)
from glue_inventory.reports.paths import report_href

Row = Mapping[str, Any]
SCHEMA_VERSION = 1
TOP_CANDIDATES = 50

SAVINGS_MONEY = ("estimated_monthly_savings_usd", "savings_identified_usd", "savings_potential_usd")
JOB_MONEY = ("cost_30d_usd", "monthly_projection_usd", *SAVINGS_MONEY, *JOB_BILLED_MONEY)
INVENTORY_COLUMNS = (
    "key", "account_id", "region", "platform", "name", "status", "priority", "job_type",
    "worker_type", "number_of_workers", "max_capacity", "capacity_dpu", "glue_version",
    "execution_class", "owner", "team", "cost_center", "tags", "last_run_at", "last_run_state",
    "days_since_last_run", "runs_30d", "finished_runs_30d", "failed_runs_30d", "failure_rate_30d",
    "dpu_hours_30d", "cost_30d_usd", "monthly_projection_usd", "eol_version", "missing_tags",
    "secret_arguments", "candidate_reasons", "savings_identified_usd", "savings_potential_usd",
    "estimated_monthly_savings_usd", "savings_basis", "billed_30d_usd", "billed_net_30d_usd",
    "estimate_billed_days_usd", "billed_difference_usd", "billed_difference_cause", "cost_basis",
)  # fmt: skip
CANDIDATE_COLUMNS = (
    "key", "name", "account_id", "region", "owner", "team", "cost_center", "score", "priority", "reasons",
    "savings_identified_usd", "savings_potential_usd", "estimated_monthly_savings_usd", "savings_basis",
    "deep_lane", "deep_rank", "evidence", "billed_30d_usd",
)  # fmt: skip
LIST_SEPARATOR = ";"
_PLAIN_CELLS = frozenset({str, int, float})


def _money_dict(values: Mapping[str, float] | None) -> dict[str, float | None]:
    return {reason: cents(amount) for reason, amount in (values or {}).items()}


def job_record(job: Row) -> dict[str, Any]:
    """A job row as reports publish it: money in cents, sets as lists, times as ISO text."""
    record = dict(job)
    for field in JOB_MONEY:
        record[field] = cents(job.get(field))
    record["savings_by_reason"] = _money_dict(job.get("savings_by_reason"))
    record["savings_by_basis"] = _money_dict(job.get("savings_by_basis"))
    record["last_run_at"] = iso(job.get("last_run_at"))
    deep = job.get("deep")
    if deep:
        record["deep"] = {
            **deep,
            "recommendations": [
                {**rec, "est_monthly_savings_usd": cents(rec.get("est_monthly_savings_usd"))}
                for rec in deep.get("recommendations") or []
            ],
        }
    return record


def candidate_record(candidate: Row) -> dict[str, Any]:
    record = dict(candidate)
    for field in (*SAVINGS_MONEY, "billed_30d_usd"):
        record[field] = cents(candidate.get(field))
    record["savings_by_reason"] = _money_dict(candidate.get("savings_by_reason"))
    record["savings_by_basis"] = _money_dict(candidate.get("savings_by_basis"))
    return record


def ranked_candidates(candidates: Sequence[Row]) -> list[Row]:
    """Highest score first; savings, then priority, then key break ties so output is stable."""
    return sorted(
        candidates,
        key=lambda c: (
            -(c.get("score") or 0),
            -(c.get("estimated_monthly_savings_usd") or 0),
            rank(PRIORITY_ORDER, c.get("priority")),
            c["key"],
        ),
    )


def inventory_records(jobs: Sequence[Row]) -> list[dict[str, Any]]:
    """The jobs as reports publish them (`job_record`), by key: what `inventory_json` and `inventory_csv` take."""
    return [job_record(job) for job in sorted(jobs, key=lambda j: j["key"])]


def inventory_json(jobs: Sequence[Row], generated_at: str | datetime,
                   records: Sequence[Row] | None = None) -> str:
    """The inventory report; `records`: `inventory_records(jobs)` when the caller already has them."""
    records = inventory_records(jobs) if records is None else records
    return to_json(
        {"schema_version": SCHEMA_VERSION, "generated_at": iso(generated_at), "job_count": len(records),
         "jobs": records}
    )  # fmt: skip


def candidates_json(candidates: Sequence[Row], generated_at: str | datetime) -> str:
    records = [candidate_record(c) for c in ranked_candidates(candidates)]
    return to_json(
        {"schema_version": SCHEMA_VERSION, "generated_at": iso(generated_at),
         "candidate_count": len(records), "candidates": records}
    )  # fmt: skip


def _reason_columns(rows: Sequence[Row]) -> list[str]:
    present = {reason for row in rows for reason in (row.get("savings_by_reason") or {})}
    return ordered_keys(REASON_ORDER, present | set(REASON_ORDER))


def _cell(value: Any) -> Any:
    if type(value) in _PLAIN_CELLS:  # most cells: checked first, the inventory has ~70 columns per job
        return value
    if value is None:
        return ""
    if isinstance(value, list | tuple | set | frozenset):
        return LIST_SEPARATOR.join(str(item) for item in (sorted(value) if isinstance(value, set) else value))
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _csv(columns: Sequence[str], reasons: Sequence[str], records: Sequence[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*columns, *(f"savings_{reason}_usd" for reason in reasons)])
    for record in records:
        savings = record.get("savings_by_reason") or {}
        writer.writerow([*(_cell(record.get(c)) for c in columns), *(_cell(savings.get(r)) for r in reasons)])
    return out.getvalue()


def inventory_csv(jobs: Sequence[Row], records: Sequence[Row] | None = None) -> str:
    """One flat row per job; lists joined with ';', tags as JSON, one savings column per reason."""
    records = inventory_records(jobs) if records is None else records
    return _csv(INVENTORY_COLUMNS, _reason_columns(records), records)


def candidates_csv(candidates: Sequence[Row]) -> str:
    records = [candidate_record(c) for c in ranked_candidates(candidates)]
    return _csv(CANDIDATE_COLUMNS, _reason_columns(records), records)


def fleet_totals(jobs: Sequence[Row]) -> dict[str, Any]:
    """Counts and spend the summary and the executive report share.

    Spend counts every job, deleted ones too (their runs were billed); EOL, missing-tag and
    secret counts are about live jobs, because only those still need fixing.
    """
    live = [job for job in jobs if job.get("status") != "deleted"]
    by_status: dict[str, dict[str, Any]] = {}
    for status in ordered_keys(STATUS_ORDER, {job.get("status") or "unknown" for job in jobs}):
        members = [job for job in jobs if (job.get("status") or "unknown") == status]
        by_status[status] = {
            "jobs": len(members),
            "cost_30d_usd": cents(sum(job.get("cost_30d_usd") or 0 for job in members)),
            "monthly_projection_usd": cents(sum(job.get("monthly_projection_usd") or 0 for job in members)),
        }
    eol_versions: dict[str, int] = {}
    for job in live:
        if job.get("eol_version"):
            version = job.get("glue_version") or "unset"
            eol_versions[version] = eol_versions.get(version, 0) + 1
    return {
        "jobs": len(jobs),
        "live_jobs": len(live),
        "by_status": by_status,
        "cost_30d_usd": cents(sum(job.get("cost_30d_usd") or 0 for job in jobs)),
        "monthly_projection_usd": cents(sum(job.get("monthly_projection_usd") or 0 for job in jobs)),
        "eol_jobs": sum(eol_versions.values()),
        "eol_versions": dict(sorted(eol_versions.items())),
        "missing_tag_jobs": sum(1 for job in live if job.get("missing_tags")),
        "secret_argument_jobs": sum(1 for job in live if job.get("secret_arguments")),
    }


def _report_links(jobs: Sequence[Row]) -> dict[str, str]:
    return {
        job["key"]: report_href(job["deep"]["report_path"])
        for job in jobs
        if job.get("deep") and job["deep"].get("report_path")
    }


def inventory_summary_md(jobs: Sequence[Row], candidates: Sequence[Row], generated_at: str | datetime) -> str:
    ranked = ranked_candidates(candidates)
    savings: dict[str, float] = {}
    for candidate in candidates:
        for reason, amount in (candidate.get("savings_by_reason") or {}).items():
            savings[reason] = savings.get(reason, 0.0) + (amount or 0)
    return (
        markdown_env()
        .get_template("inventory_summary.md.j2")
        .render(
            generated_at=iso(generated_at),
            totals=fleet_totals(jobs),
            candidate_count=len(candidates),
            savings=fleet_savings(c.get("savings_by_basis") for c in candidates),
            savings_by_reason={r: cents(savings[r]) for r in ordered_keys(REASON_ORDER, savings)},
            reason_basis={r: basis_of(r) for r in savings},
            top=[pick(c, CANDIDATE_COLUMNS) for c in ranked[:TOP_CANDIDATES]],
            links=_report_links(jobs),
        )
    )
