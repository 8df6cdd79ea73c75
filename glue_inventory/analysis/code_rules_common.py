"""The finding record every code check returns, and its severities."""

from __future__ import annotations

from typing import Any

Finding = dict[str, Any]

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

# Messages end up in reports and prompts; a runaway message (a tool echoing a whole line) is cut.
MAX_MESSAGE_CHARS = 500


def finding(rule_id: str, severity: str, line: int | None, message: str, source: str) -> Finding:
    """`{rule_id, severity, line, message, source}`; `line` is 1-based, None when the finding has no line."""
    if severity not in SEVERITY_RANK:
        raise ValueError(f"unknown severity {severity!r}; expected one of {', '.join(SEVERITIES)}")
    text = message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS - 1] + "…"
    return {"rule_id": rule_id, "severity": severity, "line": line, "message": text, "source": source}


def sort_key(item: Finding) -> tuple[int, int, str, str, str]:
    """Line first (findings without a line lead), then severity, source, rule and message."""
    return (
        item.get("line") or 0,
        SEVERITY_RANK.get(item.get("severity", "info"), len(SEVERITIES)),
        item.get("source", ""),
        item.get("rule_id", ""),
        item.get("message", ""),
    )
