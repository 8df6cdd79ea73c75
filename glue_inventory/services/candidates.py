"""The candidate list and the inventory reports built from every job's preliminary metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from glue_inventory.analysis.candidates import Candidate, Evidence, select_candidates
from glue_inventory.analysis.deep_selection import LaneEntry, lanes, opt_in
from glue_inventory.config import Settings
from glue_inventory.reports import preliminary as render
from glue_inventory.reports.rows import candidate_rows, job_report_rows
from glue_inventory.storage.analyses import latest_evidence
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
    records = render.inventory_records(job_rows)
    return {
        "inventory.json": render.inventory_json(job_rows, now, records),
        "inventory.csv": render.inventory_csv(job_rows, records),
        "candidates.json": render.candidates_json(rows, now),
        "candidates.csv": render.candidates_csv(rows),
        "inventory_summary.md": render.inventory_summary_md(job_rows, rows, now),
    }


def stored_evidence(bind: Bind) -> dict[str, Evidence]:
    """Partition key → the evidence of the job's latest deep analysis."""
    return {key: evidence for key, data in latest_evidence(bind).items()
            if (evidence := Evidence.from_dict(data)) is not None}


def deep_lanes(candidates: list[Candidate], jobs: Mapping[str, Mapping], top_k: tuple[int, int]
               ) -> dict[str, tuple[str, int]]:
    """key → (lane, rank) of the candidates chosen for deep analysis by the (savings, risk) lanes of `top_k`."""
    return lanes([LaneEntry(c.key, c.estimated_monthly_savings_usd, c.risk_points, opt_in(jobs[c.key].get("tags")))
                  for c in candidates], *top_k)


def candidate_list(jobs: Mapping[str, Mapping], settings: Settings, now: datetime,
                   evidence: Mapping[str, Evidence] | None = None,
                   top_k: tuple[int, int] | None = None,
                   kept_lanes: Mapping[str, tuple[str, int]] | None = None) -> CandidateList:
    """Candidates among the live jobs (`storage.jobs.read_jobs` rows), rescored with the evidence of their
    latest deep analyses, each with the deep-analysis lane that chose it (lane sizes `top_k`, default the
    config's; or `kept_lanes`, those chosen earlier on the same inventory), with the inventory report files."""
    live = {key: row["metrics"] for key, row in jobs.items() if row["status"] != "deleted" and row["metrics"]}
    candidates = select_candidates(live, settings, {k: v for k, v in (evidence or {}).items() if k in live})
    sizes = top_k or (settings.deep_analysis.top_k_savings, settings.deep_analysis.top_k_risk)
    chosen = deep_lanes(candidates, jobs, sizes) if kept_lanes is None else kept_lanes
    rows = candidate_rows(candidates, jobs, chosen)
    job_rows = job_report_rows(jobs, candidates, now)
    summary = render.inventory_summary_md(job_rows, rows[:SUMMARY_CANDIDATES], now)
    return CandidateList(rows=rows, live_jobs=len(live), files=_files(job_rows, rows, now), summary_md=summary)
