"""What a deep analysis establishes about a job, for its priority (analysis.candidates.rescore applies it):

- right-sizing measured from CloudWatch (over-provisioned, right-sized or short of capacity): its saving,
  0 when nothing can be saved; without usable metrics nothing is measured;
- a Spark job with no Spark work: the saving of running it as Python shell, from its own runs of the
  last 30 days;
- the worst security finding in the script: critical (a hard-coded credential, a secret in the text) or
  high (a job argument reaching SQL, a secret argument logged, eval of run-time text). bandit's own
  severities are not used: its HIGH includes md5 checksums, common and harmless in ETL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from glue_inventory.analysis.candidates import EVIDENCE_POINTS, PYTHON_SHELL, RIGHT_SIZING, Evidence
from glue_inventory.analysis.cost.dpu_estimate import MINIMUM_S

MEASURED_STATUSES = {"over_provisioned", "right_sized", "needs_more_capacity"}
# Findings that are a risk to the company, by rule. secret-in-arguments is left out: the candidate
# reason secrets_in_arguments already counts it.
SECURITY_RULES = {
    "hardcoded-credentials", "secret-in-script", "secret-argument-logged", "sql-from-strings",
    "runtime-code-execution",
}


def python_shell_saving(runs: Iterable[tuple[int | None, float | None]], dpu: float, price: float) -> float:
    """USD per month saved by running the last 30 days' runs (execution seconds, cost) as Python shell on
    `dpu` at `price` per DPU-hour: their cost minus each run's execution time (billed at least a minute) on
    `dpu`. The driver-side work is assumed to take as long without the cluster (it starts faster: a lower
    bound of the saving)."""
    spark = shell = 0.0
    for execution_time_s, cost in runs:
        spark += cost or 0.0
        shell += max(execution_time_s or 0, MINIMUM_S) * dpu / 3600 * price
    return max(spark - shell, 0.0)


def evidence_of(findings: Sequence[Mapping[str, Any]], rightsizing: Mapping[str, Any] | None,
                python_shell: float | None) -> Evidence:
    """The evidence of one deep analysis: its code findings, right-sizing and Python shell saving (or None)."""
    measured = {}
    if rightsizing and rightsizing.get("status") in MEASURED_STATUSES:
        measured[RIGHT_SIZING] = float(rightsizing.get("estimated_monthly_savings_usd") or 0.0)
    if python_shell is not None:
        measured[PYTHON_SHELL] = python_shell
    risky = [f for f in findings if f.get("rule_id") in SECURITY_RULES and f.get("severity") in EVIDENCE_POINTS]
    worst = "critical" if any(f["severity"] == "critical" for f in risky) else "high" if risky else None
    return Evidence(measured, worst, sorted({str(f["rule_id"]) for f in risky}))
