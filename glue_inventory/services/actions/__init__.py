"""Remediation: plans built, approvals checked in CloudTrail, plans applied, savings realized."""
