"""Report rendering: plain rows in, JSON, CSV, Markdown and one offline HTML dashboard out; `store` writes them."""

from glue_inventory.reports.dashboard import dashboard_html
from glue_inventory.reports.executive import executive_json, executive_numbers, executive_summary_md
from glue_inventory.reports.job_report import job_report_md
from glue_inventory.reports.paths import job_key_from_relpath, job_report_relpath
from glue_inventory.reports.preliminary import (
    candidates_csv,
    candidates_json,
    inventory_csv,
    inventory_json,
    inventory_summary_md,
)
from glue_inventory.reports.store import write_reports

__all__ = [
    "candidates_csv",
    "candidates_json",
    "dashboard_html",
    "executive_json",
    "executive_numbers",
    "executive_summary_md",
    "inventory_csv",
    "inventory_json",
    "inventory_summary_md",
    "job_key_from_relpath",
    "job_report_md",
    "job_report_relpath",
    "write_reports",
]
