"""What to do about a job: remediation plans, their commands, approvals, and the savings they realized."""
