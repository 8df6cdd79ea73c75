"""The candidate list and the inventory reports built from every job's preliminary metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from glue_inventory.analysis.candidates import Candidate, Evidence, select_candidates
from glue_inventory.config import Settings
from glue_inventory.reports import preliminary as render
from glue_inventory.reports.rows import candidate_rows, job_report_rows
from glue_inventory.storage.analyses import latest_evidence
from glue_inventory.storage.candidates import current_candidates
from glue_inventory.storage.jobs import read_jobs
from glue_inventory.storage.repository import Bind

# Candidates shown in the Markdown summary of the UI (the files hold them all).
SUMMARY_CANDIDATES = 50


@dataclass
class CandidateList:
    rows: list[dict]
    live_jobs: int
    files: dict[str, str]
    summary_md: str


def _files(job_rows: list[dict], rows: list[dict], now: datetime) -> dict[str, str]:
    return {
        "inventory.json": render.inventory_json(job_rows, now),
        "inventory.csv": render.inventory_csv(job_rows),
        "candidates.json": render.candidates_json(rows, now),
        "candidates.csv": render.candidates_csv(rows),
        "inventory_summary.md": render.inventory_summary_md(job_rows, rows, now),
    }


def stored_evidence(bind: Bind) -> dict[str, Evidence]:
    """Partition key → the evidence of the job's latest deep analysis."""
    return {key: evidence for key, data in latest_evidence(bind).items()
            if (evidence := Evidence.from_dict(data)) is not None}


def candidate_list(jobs: Mapping[str, Mapping], settings: Settings, now: datetime,
                   evidence: Mapping[str, Evidence] | None = None) -> CandidateList:
    """Candidates among the live jobs (`storage.jobs.read_jobs` rows), rescored with the evidence of their
    latest deep analyses, with the inventory report files."""
    live = {key: row["metrics"] for key, row in jobs.items() if row["status"] != "deleted" and row["metrics"]}
    candidates = select_candidates(live, settings, {k: v for k, v in (evidence or {}).items() if k in live})
    rows = candidate_rows(candidates, jobs)
    job_rows = job_report_rows(jobs, candidates, now)
    summary = render.inventory_summary_md(job_rows, rows[:SUMMARY_CANDIDATES], now)
    return CandidateList(rows=rows, live_jobs=len(live), files=_files(job_rows, rows, now), summary_md=summary)


def stored_candidate_files(bind: Bind, now: datetime) -> dict[str, str]:
    """The candidate and inventory report files rendered again from the stored list (after a deep analysis
    rescored some of its jobs), so they show the same priorities as every other report."""
    jobs = read_jobs(bind)
    candidates = [Candidate(c["key"], c["reasons"], c["savings_by_reason"], c["estimated_monthly_savings_usd"],
                            c["score"], c["priority"], c["savings_basis"])
                  for c in current_candidates(bind) if c["key"] in jobs]
    candidates.sort(key=lambda candidate: (-candidate.score, candidate.key))
    return _files(job_report_rows(jobs, candidates, now), candidate_rows(candidates, jobs), now)
