"""The executive dashboard: one self-contained HTML file (inline CSS, JS and SVG) that works offline."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any

from markupsafe import Markup

from glue_inventory.reports.formatting import html_env
from glue_inventory.reports.paths import report_href

Row = Mapping[str, Any]
# The table's columns, in the order of each row array of the embedded JSON (kept as arrays, not
# objects, so 2,000 jobs stay well under the 3 MB budget).
TABLE_COLUMNS = (
    "name", "account_id", "region", "status", "priority", "owner", "team", "cost_center", "glue_version", "eol_version",
    "runs_30d", "failure_rate_30d", "days_since_last_run", "monthly_projection_usd",
    "savings_identified_usd", "reasons", "report", "billed_30d_usd", "billed_difference_usd", "billed_cause",
    "savings_basis", "savings_potential_usd",
)  # fmt: skip


def _table_row(job: Row) -> list[Any]:
    deep = job.get("deep") or {}
    rate = job.get("failure_rate_30d")
    return [
        job.get("name"),
        job.get("account_id"),
        job.get("region"),
        job.get("status"),
        job.get("priority"),
        job.get("owner"),
        job.get("team"),
        job.get("cost_center"),
        job.get("glue_version"),
        1 if job.get("eol_version") else 0,
        job.get("runs_30d"),
        None if rate is None or not job.get("finished_runs_30d") else round(rate, 3),
        job.get("days_since_last_run"),
        round(job.get("monthly_projection_usd") or 0, 2),
        round(job.get("savings_identified_usd") or 0, 2),
        " ".join(job.get("candidate_reasons") or []),
        report_href(deep["report_path"]) if deep.get("report_path") else None,
        None if job.get("billed_30d_usd") is None else round(job["billed_30d_usd"], 2),
        None if job.get("billed_difference_usd") is None else round(job["billed_difference_usd"], 2),
        job.get("billed_difference_cause"),
        job.get("savings_basis") if job.get("estimated_monthly_savings_usd") else None,
        round(job.get("savings_potential_usd") or 0, 2),
    ]


def _script_json(data: Any) -> Markup:
    """JSON safe inside <script type="application/json">: '<', '>' and '&' as \\u escapes, so a job
    name like '</script>' cannot end the element."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for the script-data context


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def dashboard_html(jobs: Sequence[Row], numbers: Mapping[str, Any]) -> str:
    """The dashboard page of the jobs and their `executive_numbers`; relative links to `jobs/…md` assume it
    sits at the reports root."""
    assets = files("glue_inventory.reports") / "templates"
    script = (assets / "dashboard.js").read_text(encoding="utf-8")
    rows = [_table_row(job) for job in sorted(jobs, key=lambda j: -(j.get("monthly_projection_usd") or 0))]
    statuses = sorted({job.get("status") or "" for job in jobs} - {""})
    # pygal (44 modules, 0.1 s) is imported when a dashboard is drawn, not by every command that loads the code.
    from glue_inventory.reports.charts import dashboard_charts

    charts = [
        # pygal serialises through ElementTree, which escapes every label; charts.py removed its scripts.
        {"id": chart.id, "title": chart.title, "svg": Markup(chart.svg)}  # noqa: S704
        for chart in dashboard_charts(jobs, numbers)
    ]
    return (
        html_env()
        .get_template("dashboard.html.j2")
        .render(
            n=numbers,
            charts=charts,
            statuses=statuses,
            table=_script_json({"columns": TABLE_COLUMNS, "rows": rows}),
            style=Markup((assets / "dashboard.css").read_text(encoding="utf-8")),  # noqa: S704 - our file
            script=Markup(script),  # noqa: S704 - our own file
            script_hash=_csp_hash(script),
        )
    )
