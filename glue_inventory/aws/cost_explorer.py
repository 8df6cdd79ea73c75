"""Cost Explorer: an account's AWS Glue spend over a period."""

from __future__ import annotations

# Cost Explorer's SERVICE dimension value for Glue.
GLUE_SERVICE = "AWS Glue"


def glue_spend_usd(ce, start: str, end: str, account_id: str | None = None) -> float:
    """Unblended Glue cost from `start` (inclusive) to `end` (exclusive), ISO dates: of `account_id` alone
    when given (an Organization's management account sees every member's cost), else of what the caller sees."""
    service = {"Dimensions": {"Key": "SERVICE", "Values": [GLUE_SERVICE]}}
    account = {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [account_id]}} if account_id else None
    response = ce.get_cost_and_usage(
        TimePeriod={"Start": start, "End": end}, Granularity="MONTHLY", Metrics=["UnblendedCost"],
        Filter={"And": [service, account]} if account else service)
    return sum(float(period.get("Total", {}).get("UnblendedCost", {}).get("Amount", 0.0))
               for period in response.get("ResultsByTime", []))
