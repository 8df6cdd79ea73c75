"""Cost Explorer: an account's AWS Glue spend over a period."""

from __future__ import annotations

# Cost Explorer's SERVICE dimension value for Glue.
GLUE_SERVICE = "AWS Glue"


def glue_spend_usd(ce, start: str, end: str) -> float:
    """Unblended Glue cost of the account from `start` (inclusive) to `end` (exclusive), ISO dates."""
    response = ce.get_cost_and_usage(
        TimePeriod={"Start": start, "End": end}, Granularity="MONTHLY", Metrics=["UnblendedCost"],
        Filter={"Dimensions": {"Key": "SERVICE", "Values": [GLUE_SERVICE]}})
    return sum(float(period.get("Total", {}).get("UnblendedCost", {}).get("Amount", 0.0))
               for period in response.get("ResultsByTime", []))
