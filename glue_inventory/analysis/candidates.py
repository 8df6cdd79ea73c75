"""Deep-analysis candidates: the reasons each job holds, its estimated savings, score and priority.

Monthly savings per reason (P = the job's billed cost of the last 30 days when the Cost and Usage Report has
it, `billed_30d_usd`, else monthly_projection_usd, the estimate of the last 30 days):
- high_cost: 0.30 × P — an estimate of right-sizing until deep analysis measures the job.
- failing: cost of the last 30 days' FAILED, TIMEOUT and ERROR runs — spend that produced nothing.
- inactive: 1.00 × P — the job is deleted or disabled.
- flex_eligible: P × (1 − FLEX price ÷ STANDARD price) in the job's region (1 − 0.29/0.44 ≈ 34 %).
- eol_version, missing_tags, secrets_in_arguments: 0 — risk, not spend.
A job's estimated savings is the saving of the best set of its actions that can be taken together, never
more than P, split by basis (analysis.savings): measured, exact, or rule of thumb (the high_cost 30 %).
Score = estimated savings (USD/month) + risk points of its reasons: secrets_in_arguments 1000,
eol_version 250, failing 250, inactive 50, missing_tags 10. Priority by score: critical ≥ 1000,
high ≥ 250, medium ≥ 50, low below; so any secret is critical and EOL or failing at least high.

After a deep analysis its evidence (analysis.evidence) changes the figures: measured right-sizing replaces
the high_cost estimate, a Python shell saving is added, and a critical (high) security finding in the script
is the reason code_findings, worth 1000 (250) points. savings_by_basis says what the job's savings figure rests
on; savings_basis names its largest part.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from glue_inventory.analysis.cost.savings import BASES, job_savings
from glue_inventory.config import Settings, Thresholds

REASONS = (
    "high_cost",
    "failing",
    "inactive",
    "eol_version",
    "missing_tags",
    "secrets_in_arguments",
    "flex_eligible",
)
INACTIVE_STATUSES = frozenset({"stale", "abandoned", "never_run"})
RIGHT_SIZING_ESTIMATE = 0.30
RISK_POINTS = {
    "secrets_in_arguments": 1000.0,
    "eol_version": 250.0,
    "failing": 250.0,
    "inactive": 50.0,
    "missing_tags": 10.0,
}
PRIORITY_FLOORS = (("critical", 1000.0), ("high", 250.0), ("medium", 50.0))
# Keys of the evidence a deep analysis adds: a reason and two measured savings.
CODE_FINDINGS = "code_findings"
RIGHT_SIZING = "right_sizing"
PYTHON_SHELL = "python_shell"
EVIDENCE_POINTS = {"critical": 1000.0, "high": 250.0}


@dataclass(frozen=True)
class Candidate:
    """One job chosen for deep analysis and why."""

    key: str
    reasons: list[str]
    savings_by_reason: dict[str, float]
    estimated_monthly_savings_usd: float
    score: float
    priority: str
    savings_basis: str | None = None  # the largest part of the savings: measured, exact or rule_of_thumb
    savings_by_basis: dict[str, float] = field(default_factory=lambda: dict.fromkeys(BASES, 0.0))

    @property
    def risk_points(self) -> float:
        return self.score - self.estimated_monthly_savings_usd


def projection(metrics: Mapping[str, Any]) -> float:
    """The job's monthly cost: its bill of the last 30 days when known, else the estimate; 0 when unknown."""
    billed = metrics.get("billed_30d_usd")
    return float((billed if billed is not None else metrics.get("monthly_projection_usd")) or 0.0)


def high_cost_keys(jobs: Mapping[str, Mapping[str, Any]], thresholds: Thresholds) -> set[str]:
    """Jobs at or over the monthly limit or among the ceil(fraction × n) costliest (ties at the cut count)."""
    # round() first: 0.1 × 30 is 3.0000000000000004 in floating point, and ceil would make it 4.
    top_n = math.ceil(round(thresholds.high_cost_top_fraction * len(jobs), 9))
    costs = sorted((cost for cost in map(projection, jobs.values()) if cost > 0), reverse=True)
    cut = costs[min(top_n, len(costs)) - 1] if costs and top_n > 0 else math.inf
    # A job costing 0 never counts, even when the monthly limit is configured as 0.
    limit = max(min(cut, thresholds.high_cost_monthly_usd), math.ulp(0.0))
    return {key for key, metrics in jobs.items() if projection(metrics) >= limit}


def job_reasons(metrics: Mapping[str, Any], high_cost: bool, thresholds: Thresholds) -> list[str]:
    """The reasons that hold for one job, in the order of REASONS."""
    holds = {
        "high_cost": high_cost,
        "failing": float(metrics.get("failure_rate_30d") or 0.0) >= thresholds.failing_rate
        and int(metrics.get("finished_runs_30d") or 0) >= thresholds.failing_min_runs,
        "inactive": metrics.get("status") in INACTIVE_STATUSES,
        "eol_version": bool(metrics.get("eol_version")),
        "missing_tags": bool(metrics.get("missing_tags")),
        "secrets_in_arguments": bool(metrics.get("secret_arguments")),
        "flex_eligible": bool(metrics.get("flex_eligible")),
    }
    return [reason for reason in REASONS if holds[reason]]


def reason_savings(reason: str, metrics: Mapping[str, Any], settings: Settings) -> float:
    """Estimated USD per month that acting on `reason` saves (formulas in the module docstring)."""
    monthly = projection(metrics)
    if reason == "high_cost":
        return RIGHT_SIZING_ESTIMATE * monthly
    if reason == "failing":
        return float(metrics.get("failed_cost_30d_usd") or 0.0)
    if reason == "inactive":
        return monthly
    if reason == "flex_eligible":
        region = str(metrics.get("region") or "default")
        standard = settings.pricing.per_dpu_hour(region, "STANDARD")
        flex = settings.pricing.per_dpu_hour(region, "FLEX")
        return monthly * (1 - flex / standard) if standard > 0 else 0.0
    return 0.0


def priority_of(score: float) -> str:
    for priority, floor in PRIORITY_FLOORS:
        if score >= floor:
            return priority
    return "low"


@dataclass(frozen=True)
class Evidence:
    """What a deep analysis established about a job; stored with it and applied to every later candidate list."""

    measured_savings: dict[str, float] = field(default_factory=dict)  # right_sizing, python_shell → USD/month
    security: str | None = None  # worst severity of its security findings: critical, high or None
    security_rules: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Evidence | None:
        if not data:
            return None
        return cls(measured_savings=dict(data.get("measured_savings") or {}), security=data.get("security"),
                   security_rules=list(data.get("security_rules") or []))


def rescore(key: str, reasons: Sequence[str], savings_by_reason: Mapping[str, float], monthly: float,
            evidence: Evidence | None) -> Candidate:
    """A job's candidate figures from its reasons and their savings, with the evidence of its latest deep
    analysis applied (module docstring); its reasons are empty when it is no candidate."""
    reasons = [reason for reason in reasons if reason != CODE_FINDINGS]
    savings = dict(savings_by_reason)
    points = sum(RISK_POINTS.get(reason, 0.0) for reason in reasons)
    if evidence is not None:
        if RIGHT_SIZING in evidence.measured_savings:
            savings.pop("high_cost", None)  # the estimate of what right-sizing has now measured
        savings.update(evidence.measured_savings)
        if evidence.security in EVIDENCE_POINTS:
            reasons.append(CODE_FINDINGS)
            points += EVIDENCE_POINTS[evidence.security]
    split = job_savings(monthly, savings)
    score = split.total_usd + points
    return Candidate(key, reasons, savings, split.total_usd, score, priority_of(score), split.basis,
                     split.by_basis)


def select_candidates(jobs: Mapping[str, Mapping[str, Any]], settings: Settings,
                      evidence: Mapping[str, Evidence] | None = None) -> list[Candidate]:
    """Candidates among live jobs (key → preliminary metrics), with the evidence of their latest deep
    analyses applied; by score descending then key."""
    thresholds = settings.thresholds
    costly = high_cost_keys(jobs, thresholds)
    evidence = evidence or {}
    candidates = []
    for key, metrics in jobs.items():
        reasons = job_reasons(metrics, key in costly, thresholds)
        if not reasons and key not in evidence:
            continue
        savings = {reason: reason_savings(reason, metrics, settings) for reason in reasons}
        candidate = rescore(key, reasons, savings, projection(metrics), evidence.get(key))
        if candidate.reasons:
            candidates.append(candidate)
    return sorted(candidates, key=lambda candidate: (-candidate.score, candidate.key))
