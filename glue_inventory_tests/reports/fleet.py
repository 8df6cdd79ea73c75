"""Hand-built inventory rows for the report tests: twelve jobs, every status, hostile names."""

from __future__ import annotations

from typing import Any

from glue_inventory.reports.paths import job_report_relpath

GENERATED_AT = "2026-11-26T06:00:00Z"
ACCOUNT = "123456789012"
REGION = "us-east-1"
XSS_NAME = "<script>alert(1)</script>"


def job(name: str, status: str, **fields: Any) -> dict[str, Any]:
    key = f"{ACCOUNT}/{REGION}/{name}"
    row: dict[str, Any] = {
        "key": key,
        "account_id": ACCOUNT,
        "region": REGION,
        "platform": "prod",
        "name": name,
        "status": status,
        "priority": None,
        "job_type": "glueetl",
        "worker_type": "G.1X",
        "number_of_workers": 10,
        "max_capacity": None,
        "capacity_dpu": 10.0,
        "glue_version": "4.0",
        "execution_class": "STANDARD",
        "tags": {"owner": "ana", "team": "data", "cost-center": "CC-100"},
        "owner": "ana",
        "team": "data",
        "cost_center": "CC-100",
        "last_run_at": "2026-11-20T01:00:00Z",
        "last_run_state": "SUCCEEDED",
        "days_since_last_run": 6,
        "runs_30d": 30,
        "finished_runs_30d": 30,
        "failed_runs_30d": 0,
        "failure_rate_30d": 0.0,
        "dpu_hours_30d": 100.0,
        "cost_30d_usd": 44.0,
        "monthly_projection_usd": 44.0,
        "eol_version": False,
        "missing_tags": [],
        "secret_arguments": [],
        "candidate_reasons": [],
        "estimated_monthly_savings_usd": 0.0,
        "savings_by_reason": {},
        "deep": None,
    }
    row.update(fields)
    return row


def idle(days: int, last_run_at: str) -> dict[str, Any]:
    return {
        "days_since_last_run": days,
        "last_run_at": last_run_at,
        "runs_30d": 0,
        "finished_runs_30d": 0,
        "dpu_hours_30d": 0.0,
        "cost_30d_usd": 0.0,
        "monthly_projection_usd": 0.0,
    }


def never_run() -> dict[str, Any]:
    return {**idle(0, ""), "days_since_last_run": None, "last_run_at": None, "last_run_state": None}


def deep_summary(name: str, saving: float, security: int = 0) -> dict[str, Any]:
    return {
        "recommendations": [
            {
                "title": "Switch to FLEX",
                "category": "cost",
                "severity": "medium",
                "est_monthly_savings_usd": saving,
                "effort": "low",
            },
        ],
        "code_findings": {"high": 1, "low": 2},
        "security_findings": security,
        "report_path": job_report_relpath(f"{ACCOUNT}/{REGION}/{name}"),
    }


def fleet() -> list[dict[str, Any]]:
    return [
        job(
            "daily_sales_etl",
            "active",
            cost_30d_usd=312.347,
            monthly_projection_usd=312.347,
            priority="high",
            candidate_reasons=["high_cost", "flex_eligible"],
            estimated_monthly_savings_usd=106.198,
            savings_by_reason={"high_cost": 0.0, "flex_eligible": 106.198},
            savings_basis="exact",
            savings_by_basis={"measured": 0.0, "exact": 106.198, "rule_of_thumb": 0.0},
            deep=deep_summary("daily_sales_etl", 106.198, security=2),
        ),
        job(
            XSS_NAME,
            "active",
            cost_30d_usd=57.123,
            monthly_projection_usd=57.123,
            owner=None,
            team=None,
            cost_center=None,
            tags={},
            missing_tags=["owner", "cost-center"],
            priority="medium",
            candidate_reasons=["missing_tags"],
            deep=deep_summary(XSS_NAME, 5.0, security=1),
        ),
        job(
            "weekly report.v2",
            "active",
            cost_30d_usd=19.994,
            monthly_projection_usd=19.994,
            failed_runs_30d=4,
            finished_runs_30d=5,
            runs_30d=5,
            failure_rate_30d=0.8,
            priority="high",
            candidate_reasons=["failing"],
            owner="bob",
            team="finance",
            cost_center="CC-200",
            tags={"owner": "bob", "team": "finance", "cost-center": "CC-200"},
        ),
        job("...", "idle", **idle(37, "2026-10-20T01:00:00Z"), owner="bob", team="finance", cost_center="CC-200",
            tags={"owner": "bob", "team": "finance", "cost-center": "CC-200"}),
        job(
            "team/x/nested",
            "idle",
            **idle(75, "2026-09-12T01:00:00Z"),
            glue_version="2.0",
            eol_version=True,
            candidate_reasons=["eol_version"],
            priority="medium",
            estimated_monthly_savings_usd=0.0,
        ),
        job(
            "données-été ☃",
            "stale",
            **idle(120, "2026-07-29T01:00:00Z"),
            candidate_reasons=["inactive"],
            priority="low",
            estimated_monthly_savings_usd=0.0,
        ),
        job(
            "legacy_py2",
            "abandoned",
            **idle(400, "2025-10-22T01:00:00Z"),
            glue_version="1.0",
            eol_version=True,
            candidate_reasons=["inactive", "eol_version"],
            priority="medium",
        ),
        job(
            "never_started",
            "never_run",
            **never_run(),
            candidate_reasons=["inactive", "missing_tags", "secrets_in_arguments"],
            priority="critical",
            secret_arguments=["--db_password"],
            owner=None,
            team=None,
            cost_center="CC-3300",
            tags={"env": "dev", "cost-center": "CC-3300"},
            missing_tags=["owner"],
        ),
        job("brand-new", "new", **never_run()),
        job(
            "gone_job",
            "deleted",
            cost_30d_usd=3.333,
            monthly_projection_usd=3.333,
            glue_version="0.9",
            eol_version=True,
        ),
        job(
            "flex|pipe*star_",
            "active",
            cost_30d_usd=120.555,
            monthly_projection_usd=120.555,
            execution_class="FLEX",
            priority="high",
            candidate_reasons=["high_cost"],
            estimated_monthly_savings_usd=40.185,
            savings_by_reason={"high_cost": 40.185},
            savings_basis="rule_of_thumb",
            savings_by_basis={"measured": 0.0, "exact": 0.0, "rule_of_thumb": 40.185},
            owner="carol",
            team="ml",
            cost_center="CC-300",
            tags={"owner": "carol", "team": "ml", "cost-center": "CC-300"},
            glue_version="3.0",
        ),
        job(
            "shell-small",
            "active",
            job_type="pythonshell",
            worker_type=None,
            number_of_workers=None,
            max_capacity=0.0625,
            capacity_dpu=0.0625,
            cost_30d_usd=0.917,
            monthly_projection_usd=0.917,
            glue_version="3.0",
        ),
    ]


def candidates(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    scores = {
        "daily_sales_etl": 90,
        "flex|pipe*star_": 70,
        "weekly report.v2": 65,
        XSS_NAME: 40,
        "legacy_py2": 35,
        "team/x/nested": 30,
        "never_started": 60,
        "données-été ☃": 20,
    }
    out = []
    for row in jobs:
        if row["name"] not in scores:
            continue
        out.append(
            {
                "key": row["key"],
                "name": row["name"],
                "account_id": row["account_id"],
                "region": row["region"],
                "owner": row["owner"],
                "team": row["team"],
                "cost_center": row["cost_center"],
                "score": scores[row["name"]],
                "priority": row["priority"],
                "reasons": row["candidate_reasons"],
                "savings_by_reason": row["savings_by_reason"],
                "estimated_monthly_savings_usd": row["estimated_monthly_savings_usd"],
                "savings_basis": row.get("savings_basis"),
                "savings_by_basis": row.get("savings_by_basis") or {},
                "evidence": f"evidence for {row['name']} | see runs",
            }
        )
    return out


def history() -> list[dict[str, Any]]:
    keys = [
        f"{ACCOUNT}/{REGION}/{name}"
        for name in (
            "daily_sales_etl",
            XSS_NAME,
            "weekly report.v2",
            "...",
            "team/x/nested",
            "données-été ☃",
            "legacy_py2",
            "never_started",
            "gone_job",
            "flex|pipe*star_",
            "retired_last_month",
        )
    ]
    return [
        {
            "generated_at": "2026-10-26T06:00:00Z",
            "jobs_by_status": {"active": 7, "idle": 2},
            "monthly_projection_usd": 410.5,
            "job_keys": keys[:-3],
        },
        {
            "generated_at": "2026-11-19T06:00:00Z",
            "jobs_by_status": {"active": 8, "idle": 1, "stale": 2},
            "monthly_projection_usd": 500.25,
            "job_keys": set(keys),
        },
    ]


def cost_explorer() -> dict[str, Any]:
    return {"period_start": "2026-10-27", "period_end": "2026-11-26", "actual_usd": 601.40}


def deep_result() -> dict[str, Any]:
    """What job_deep_analysis hands to job_report_md for one job."""
    return {
        "metrics": {
            "status": "over_provisioned",
            "findings": [],
            "current": {"worker_type": "G.2X", "number_of_workers": 20, "max_capacity": None, "dpu": 40.0},
            "recommended": {"worker_type": "G.1X", "number_of_workers": 10, "max_capacity": None, "dpu": 10.0},
            "monthly_cost_usd": 312.76,
            "estimated_monthly_savings_usd": 234.5678,
            "estimated_monthly_increase_usd": 0.0,
            "suggest_auto_scaling": False,
            "evidence": {"peak_needed_executors": 6, "available_executors": 19, "peak_heap_usage": 0.31,
                         "runs_with_metrics": 14, "monthly_dpu_hours": 710.8},
        },
        "code_analysis": {
            "findings": [
                {
                    "rule_id": "hardcoded-secret",
                    "severity": "critical",
                    "line": 12,
                    "message": "AWS secret key in a string literal",
                    "source": "ast",
                    "snippet": 'key = "****REDACTED****"',
                },
                {
                    "rule_id": "collect-to-driver",
                    "severity": "high",
                    "line": 40,
                    "message": "df.collect() pulls the whole table onto the driver",
                    "source": "ast",
                    "snippet": "rows = df.collect()  # ``` | <b>not bold</b>",
                },
                {
                    "rule_id": "W0611",
                    "severity": "low",
                    "line": 3,
                    "message": "unused import os",
                    "source": "pylint",
                    "snippet": "import os",
                },
            ],
            "summary": {"total": 3, "by_source": {"ast": 2, "pylint": 1}},
        },
        "ai_analysis": {"status": "skipped", "reason": "no OPENAI_API_KEY set"},
        "cost_analysis": {
            "cost_30d_usd": 312.347,
            "price_per_dpu_hour_usd": 0.44,
            "runs_30d": 30,
            "execution_class": "STANDARD",
        },
        "recommendations": [
            {
                "title": "Right-size to 10 × G.1X",
                "category": "cost",
                "severity": "medium",
                "est_monthly_savings_usd": 234.5678,
                "effort": "low",
                "source": "metrics",
            },
            {
                "title": "Rotate the leaked AWS key and read it from Secrets Manager",
                "category": "security",
                "severity": "critical",
                "est_monthly_savings_usd": 0,
                "effort": "medium",
                "source": "code",
            },
        ],
    }


def big_fleet(count: int = 2000) -> list[dict[str, Any]]:
    """A fleet of realistic size: long names, several accounts, owners and statuses, 10% deep-analysed."""
    statuses = ("active", "active", "active", "idle", "stale", "abandoned", "never_run", "new", "deleted")
    rows = []
    for i in range(count):
        status = statuses[i % len(statuses)]
        name = f"{('ingest', 'transform', 'export', 'backfill')[i % 4]}_customer_orders_partition_{i:05d}_daily"
        account = f"1000000000{i % 7:02d}"
        cost = 0.0 if status in ("stale", "abandoned", "never_run", "new") else round((i * 37 % 997) * 1.7, 3)
        rows.append(
            job(
                name,
                status,
                account_id=account,
                key=f"{account}/eu-west-1/{name}",
                region="eu-west-1",
                owner=f"owner{i % 40}",
                team=f"team{i % 12}",
                cost_center=f"CC-{i % 9}",
                tags={"owner": f"owner{i % 40}", "team": f"team{i % 12}", "cost-center": f"CC-{i % 9}"},
                cost_30d_usd=cost,
                monthly_projection_usd=cost,
                glue_version=("2.0", "3.0", "4.0", "5.0")[i % 4],
                eol_version=i % 4 == 0,
                failure_rate_30d=(i % 5) / 4,
                failed_runs_30d=i % 5,
                finished_runs_30d=4,
                days_since_last_run=None if status in ("never_run", "new") else (i * 13) % 400,
                candidate_reasons=["high_cost", "flex_eligible"] if cost > 1200 else [],
                estimated_monthly_savings_usd=round(cost * 0.34, 3) if cost > 1200 else 0.0,
                savings_by_basis={"exact": round(cost * 0.34, 3) if cost > 1200 else 0.0},
                deep=deep_summary(name, 10.0) if i % 10 == 0 else None,
            )
        )
        if rows[-1]["deep"]:
            rows[-1]["deep"]["report_path"] = job_report_relpath(rows[-1]["key"])
    return rows
