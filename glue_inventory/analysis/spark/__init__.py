"""Spark event logs: the streaming reader, the per-run summary, the replay on other worker counts, the findings."""
