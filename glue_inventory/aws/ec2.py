"""EC2: the Regions an account has enabled."""

from __future__ import annotations


def enabled_regions(ec2) -> list[str]:
    """Regions enabled for the account (opted in, or needing no opt-in): DescribeRegions without AllRegions."""
    return sorted(region["RegionName"] for region in ec2.describe_regions().get("Regions", []))
