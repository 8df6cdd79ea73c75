"""What to do about each candidate reason: one wording shared by the job reports, the executive summary and
the remediation plans, so the same action reads the same everywhere."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReasonAction:
    """The action a candidate reason calls for; `plan_kind` is the remediation plan that carries it out."""

    title: str
    category: str
    severity: str
    effort: str
    plan_kind: str | None = None


REASON_ACTIONS = {
    "high_cost": ReasonAction("Right-size the high-cost job (a deep analysis measures what it needs)", "cost",
                              "medium", "medium", "rightsize"),
    "failing": ReasonAction("Fix or stop the failing job: most recent runs fail", "reliability", "high", "medium"),
    "inactive": ReasonAction("Delete or archive the unused job and its triggers", "cost", "medium", "low",
                             "delete_job"),
    "eol_version": ReasonAction("Upgrade to a supported Glue version", "maintainability", "high", "medium",
                                "upgrade_glue_version"),
    "missing_tags": ReasonAction("Add the required owner and cost-center tags", "maintainability", "low", "low"),
    "secrets_in_arguments": ReasonAction("Move secrets from DefaultArguments to AWS Secrets Manager", "security",
                                         "critical", "low", "move_secrets"),
    "flex_eligible": ReasonAction("Switch to the FLEX execution class (non-urgent job)", "cost", "medium", "low",
                                  "switch_flex"),
}
# A deep analysis measures right-sizing from CloudWatch, which replaces the high_cost estimate.
MEASURED_BY_DEEP_ANALYSIS = frozenset({"high_cost"})
