"""Reads and writes of the bill's tables."""
