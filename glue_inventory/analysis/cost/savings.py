"""What a job's savings add up to, and what each dollar rests on.

Every saving has a basis:
- `measured`: the job's own telemetry says it (right-sizing from CloudWatch job metrics, the Python shell
  saving from its own runs);
- `exact`: arithmetic on the job's observed or billed cost that assumes nothing about its behaviour (switching
  to FLEX, deleting an inactive job, the cost of its failed runs);
- `rule_of_thumb`: an assumption nobody measured (the 30 % `high_cost` right-sizing figure).
"Savings identified" is measured + exact; a rule-of-thumb saving is "potential, not yet measured".

Actions overlap, so their savings are never simply added. Deleting a job, or replacing it by a Python shell
job, stands alone (with the cost of failed runs beside the Python shell). Fixing failed runs, right-sizing the
capacity and changing the price class change different factors of the same bill: taken together each applies
to the cost the others leave, so P × (1 − Π(1 − sᵢ ÷ P)). A job's saving is the best such set of actions,
never more than its monthly cost P.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

MEASURED = "measured"
EXACT = "exact"
RULE_OF_THUMB = "rule_of_thumb"
BASES = (MEASURED, EXACT, RULE_OF_THUMB)
# The saving of fixing a skewed stage, measured from the job's Spark event log (analysis/spark/findings.py).
SKEWED_STAGE = "skewed_stage"
IDENTIFIED_BASES = (MEASURED, EXACT)

# Action (a candidate reason, or a saving a deep analysis measured) → its basis. An action not listed is taken
# as a rule of thumb: nothing unknown is ever counted as identified.
ACTION_BASIS = {
    "right_sizing": MEASURED,
    "python_shell": MEASURED,
    "skewed_stage": MEASURED,
    "inactive": EXACT,
    "flex_eligible": EXACT,
    "failing": EXACT,
    "high_cost": RULE_OF_THUMB,
}
# The sets of actions that can be taken together; a job's saving is the best of them.
COMPATIBLE_ACTIONS = (
    ("inactive",),
    ("python_shell", "failing"),
    ("right_sizing", "flex_eligible", "failing", "skewed_stage"),
    ("high_cost", "flex_eligible", "failing"),
)


def basis_of(action: str) -> str:
    return ACTION_BASIS.get(action, RULE_OF_THUMB)


def together(monthly: float, amounts: Iterable[float]) -> float:
    """The saving of actions taken together, each on the cost the others leave: P × (1 − Π(1 − sᵢ ÷ P))."""
    if monthly <= 0:
        return 0.0
    # Summed action by action (each on the share the earlier ones leave), so one action alone is its own figure.
    total, left = 0.0, 1.0
    for amount in amounts:
        amount = min(max(float(amount or 0.0), 0.0), monthly)
        total += amount * left
        left *= 1.0 - amount / monthly
    return total


def best_actions(monthly: float, savings: Mapping[str, float]) -> tuple[float, tuple[str, ...]]:
    """(saving, actions) of the best compatible set of the actions in `savings`."""
    best: tuple[float, tuple[str, ...]] = (0.0, ())
    for group in COMPATIBLE_ACTIONS:
        actions = tuple(name for name in group if (savings.get(name) or 0.0) > 0)
        value = together(monthly, (savings[name] for name in actions))
        if value > best[0]:
            best = (value, actions)
    return best


@dataclass(frozen=True)
class JobSavings:
    """A job's monthly saving: the best set of its actions, split by basis."""

    total_usd: float = 0.0
    by_basis: dict[str, float] = field(default_factory=lambda: dict.fromkeys(BASES, 0.0))
    actions: tuple[str, ...] = ()  # the actions of the best set, all bases

    @property
    def identified_usd(self) -> float:
        return self.by_basis[MEASURED] + self.by_basis[EXACT]

    @property
    def potential_usd(self) -> float:
        return self.by_basis[RULE_OF_THUMB]

    @property
    def basis(self) -> str | None:
        """The basis of the largest part (measured before exact before rule of thumb on a tie); None at 0."""
        largest = max(BASES, key=lambda name: (self.by_basis[name], -BASES.index(name)))
        return largest if self.by_basis[largest] > 0 else None


def job_savings(monthly: float, savings: Mapping[str, float]) -> JobSavings:
    """Split a job's saving by basis. Identified (measured + exact) is the best set of the actions that are not
    rules of thumb, shared between measured and exact in proportion to each action's own saving; the rule of
    thumb is what the best set of all actions adds to it."""
    identified, chosen = best_actions(monthly, {k: v for k, v in savings.items() if basis_of(k) != RULE_OF_THUMB})
    total, actions = best_actions(monthly, savings)
    own = sum(savings[name] for name in chosen)
    measured = identified * sum(savings[name] for name in chosen if basis_of(name) == MEASURED) / own if own else 0.0
    if total <= identified:
        total, actions = identified, chosen
    return JobSavings(total, {MEASURED: measured, EXACT: identified - measured, RULE_OF_THUMB: total - identified},
                      actions)


def fleet_savings(jobs: Iterable[Mapping[str, float] | None]) -> dict[str, float]:
    """The fleet's savings by basis (each job's `savings_by_basis`), with `identified` = measured + exact and
    `potential` = rule of thumb, every figure in cents so the parts add up to the totals as printed."""
    sums = dict.fromkeys(BASES, 0.0)
    for by_basis in jobs:
        for name in BASES:
            sums[name] += float((by_basis or {}).get(name) or 0.0)
    parts = {name: round(amount, 2) for name, amount in sums.items()}
    return {**parts, "identified": round(parts[MEASURED] + parts[EXACT], 2), "potential": parts[RULE_OF_THUMB]}
