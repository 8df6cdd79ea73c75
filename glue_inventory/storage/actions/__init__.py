"""Reads and writes of the remediation tables."""
