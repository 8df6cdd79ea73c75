"""The finding record every code check returns, and its severities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Required, TypedDict


class Finding(TypedDict, total=False):
    """What every code check returns: the rule, its severity, the 1-based line (None when it has none), the
    message and the tool (`ast`, `pylint`, `bandit`, `secrets`, `script`); some rules add the lines involved
    or their own figures, and the deep analysis a snippet of the source."""

    rule_id: Required[str]
    severity: Required[str]
    line: Required[int | None]
    message: Required[str]
    source: Required[str]
    lines: list[int]
    python_shell_dpu: float
    snippet: str
    symbol: str
    confidence: str
    argument: str

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
# Findings severe enough to weigh on a verdict or rank an action among the risks.
SEVERE = ("critical", "high")
# Rule ids that name a security concern: a secret or a credential in the code or its arguments.
SECURITY_RULE_WORDS = ("secret", "credential")


def is_security_rule(rule_id: str) -> bool:
    """A rule about secrets or credentials (its id says so)."""
    return any(word in rule_id for word in SECURITY_RULE_WORDS)


def is_security_finding(finding: Finding) -> bool:
    """A finding that counts as a security one: every bandit finding, and the rules of `is_security_rule`."""
    return finding.get("source") == "bandit" or is_security_rule(finding.get("rule_id") or "")


# Calls that start Spark or Glue in a script (`SparkSession.builder.getOrCreate()` is named by getOrCreate).
SPARK_ENTRY = frozenset({"GlueContext", "SparkContext", "SparkSession", "getOrCreate"})

# Glue's values of --job-bookmark-option (AWS Glue developer guide, "Job parameters"); the default is disable.
BOOKMARK_OPTIONS = ("job-bookmark-enable", "job-bookmark-disable", "job-bookmark-pause")
BOOKMARK_DEFAULT = "job-bookmark-disable"


@dataclass(frozen=True)
class JobContext:
    """What the job's definition tells the rules; None where it is unknown (a script analysed on its own).

    `job_type` is Command.Name (glueetl, gluestreaming, pythonshell, glueray); `bookmark_option` the value
    of --job-bookmark-option, the only argument value the inventory keeps (it is never a secret).
    """

    job_type: str | None = None
    bookmark_option: str | None = None

    @property
    def bookmarks_enabled(self) -> bool:
        return self.bookmark_option == "job-bookmark-enable"

    @property
    def bookmarks_disabled(self) -> bool:
        return self.bookmark_option == "job-bookmark-disable"


def bookmark_option(default_arguments: dict[str, str] | None) -> str | None:
    """--job-bookmark-option of a job's DefaultArguments (Glue's default when absent); None if unrecognised."""
    value = (default_arguments or {}).get("--job-bookmark-option", BOOKMARK_DEFAULT)
    value = str(value).strip().lower()
    return value if value in BOOKMARK_OPTIONS else None


# Messages end up in reports and prompts; a runaway message (a tool echoing a whole line) is cut.
MAX_MESSAGE_CHARS = 500


def finding(rule_id: str, severity: str, line: int | None, message: str, source: str, **extra: Any) -> Finding:
    """`{rule_id, severity, line, message, source}`; `line` is 1-based, None when the finding has no line.

    `extra` adds facts a later step needs: `lines` (every line involved, when more than one), or a rule's
    own figures (`python_shell_dpu`)."""
    if severity not in SEVERITY_RANK:
        raise ValueError(f"unknown severity {severity!r}; expected one of {', '.join(SEVERITIES)}")
    text = message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS - 1] + "…"
    record = Finding(rule_id=rule_id, severity=severity, line=line, message=text, source=source)
    record.update(extra)  # type: ignore[typeddict-item]  # the rule's own facts (lines, figures), named by it
    return record


def sort_key(item: Finding) -> tuple[int, int, str, str, str]:
    """Line first (findings without a line lead), then severity, source, rule and message."""
    return (
        item.get("line") or 0,
        SEVERITY_RANK.get(item.get("severity", "info"), len(SEVERITIES)),
        item.get("source", ""),
        item.get("rule_id", ""),
        item.get("message", ""),
    )
