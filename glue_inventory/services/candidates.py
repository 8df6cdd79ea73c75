"""The candidate list and the inventory reports built from every job's preliminary metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from glue_inventory.analysis.candidates import select_candidates
from glue_inventory.config import Settings
from glue_inventory.reports import preliminary as render
from glue_inventory.reports.rows import candidate_rows, job_report_rows

# Candidates shown in the Markdown summary of the UI (the files hold them all).
SUMMARY_CANDIDATES = 50


@dataclass
class CandidateList:
    rows: list[dict]
    live_jobs: int
    files: dict[str, str]
    summary_md: str


def candidate_list(jobs: Mapping[str, Mapping], settings: Settings, now: datetime) -> CandidateList:
    """Candidates among the live jobs (`storage.jobs.read_jobs` rows) with the inventory report files."""
    live = {key: row["metrics"] for key, row in jobs.items() if row["status"] != "deleted" and row["metrics"]}
    candidates = select_candidates(live, settings)
    rows = candidate_rows(candidates, jobs)
    job_rows = job_report_rows(jobs, candidates, now)
    files = {
        "inventory.json": render.inventory_json(job_rows, now),
        "inventory.csv": render.inventory_csv(job_rows),
        "candidates.json": render.candidates_json(rows, now),
        "candidates.csv": render.candidates_csv(rows),
        "inventory_summary.md": render.inventory_summary_md(job_rows, rows, now),
    }
    summary = render.inventory_summary_md(job_rows, rows[:SUMMARY_CANDIDATES], now)
    return CandidateList(rows=rows, live_jobs=len(live), files=files, summary_md=summary)
