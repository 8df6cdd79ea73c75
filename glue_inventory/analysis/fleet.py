"""The headline figures of one inventory, computed in one place: the executive report, `executive.json`, the
dashboard, the KPIs and the notifications all show these (one definition per number)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from glue_inventory.analysis.cost.savings import fleet_savings

Row = Mapping[str, Any]


@dataclass(frozen=True)
class FleetNumbers:
    """Live jobs; the estimated monthly spend (every job's `monthly_projection_usd`, deleted ones too: their
    runs of the window were billed) and the bill of the reconciliation window of the same jobs (None when no
    job has one); the current candidates with the savings they add up to: identified (measured + exact) and
    potential (rule of thumb), in cents."""

    live_jobs: int
    estimated_monthly_usd: float
    billed_monthly_usd: float | None
    candidates: int
    savings_identified_usd: float
    savings_potential_usd: float
    candidates_by_priority: dict[str, int] = field(default_factory=dict)


def fleet_numbers(jobs: Iterable[Row], candidates: Iterable[Row]) -> FleetNumbers:
    """The figures of `jobs` (flat rows: `status`, `monthly_projection_usd`, `billed_30d_usd`) and of the
    current `candidates` (`savings_by_basis`, `priority`)."""
    every = list(jobs)
    live = [job for job in every if job.get("status") != "deleted"]
    billed = [job["billed_30d_usd"] for job in every if job.get("billed_30d_usd") is not None]
    chosen = list(candidates)
    savings = fleet_savings(c.get("savings_by_basis") for c in chosen)
    return FleetNumbers(
        live_jobs=len(live),
        estimated_monthly_usd=round(sum(float(job.get("monthly_projection_usd") or 0.0) for job in every), 2),
        billed_monthly_usd=round(sum(float(amount) for amount in billed), 2) if billed else None,
        candidates=len(chosen),
        savings_identified_usd=savings["identified"],
        savings_potential_usd=savings["potential"],
        candidates_by_priority=dict(Counter(c.get("priority") or "none" for c in chosen)),
    )


def flat_job(job: Row) -> dict[str, Any]:
    """A stored job (`storage.jobs.read_jobs` row: metrics nested) as the flat row `fleet_numbers` reads."""
    metrics = job.get("metrics") or {}
    return {"status": job.get("status"), "monthly_projection_usd": metrics.get("monthly_projection_usd"),
            "billed_30d_usd": metrics.get("billed_30d_usd")}
