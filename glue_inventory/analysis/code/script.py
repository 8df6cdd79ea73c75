"""What a Glue job script from S3 is: its hash, kind and text (secrets redacted), before any analysis."""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from glue_inventory.analysis.code.model import ScriptModel
from glue_inventory.analysis.code.rules_security import positional_secret_literals
from glue_inventory.analysis.code.secret_names import secret_name_literals
from glue_inventory.analysis.code.secrets import REDACTED, find_secrets, redact_text
from glue_inventory.analysis.findings import Finding, finding

SCRIPT_KINDS = ("python", "scala", "binary", "too_large", "empty")

# Zip (a packaged .zip/.jar/.egg uploaded as the script) and gzip: never decoded as text.
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b")


@dataclass(frozen=True)
class ScriptInfo:
    """A job script: `text` is already redacted, so it is what may be stored, shown or analysed."""

    location: str
    sha256: str
    size_bytes: int
    kind: str
    text: str = ""
    encoding: str | None = None
    findings: tuple[Finding, ...] = field(default_factory=tuple)


def _script_finding(rule_id: str, severity: str, line: int | None, message: str) -> Finding:
    return finding(rule_id, severity, line, message, "script")


def _decode(data: bytes) -> tuple[str, str, list[Finding]]:
    """Text with "\n" line endings (CR-only and CRLF scripts too, so every line number agrees)."""
    text, encoding, notes = _decode_bytes(data)
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding, notes


def _decode_bytes(data: bytes) -> tuple[str, str, list[Finding]]:
    try:
        return data.decode("utf-8-sig"), "utf-8", []
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        note = _script_finding(
            "script-not-utf8", "low", line,
            f"Script is not valid UTF-8 (first bad byte on line {line}); read as latin-1. "
            "Python 3 reads source as UTF-8 unless a coding comment says otherwise.",
        )
        return data.decode("latin-1"), "latin-1", [note]


def _secret_findings(text: str, names: dict[int, set[str]]) -> list[Finding]:
    lines: dict[int, set[str]] = {}
    for line, kind in find_secrets(text, keep=names):
        lines.setdefault(line, set()).add(kind)
    return [
        _script_finding(
            "secret-in-script", "critical", line,
            f"Possible secret in the script ({', '.join(sorted(kinds))}); the value is redacted here. "
            "Read it at run time from AWS Secrets Manager or a Glue connection instead.",
        )
        for line, kinds in sorted(lines.items())
    ]


# Only a script mentioning one of these can pass a password by position or name a secret.
_MODEL_HINTS = ("connect(", "Connect(", "SecretId", "get_parameter", "get_secret")


def _source_model(text: str) -> ScriptModel | None:
    """The model of the original (unredacted) text, when the script needs one for redaction."""
    if not any(hint in text for hint in _MODEL_HINTS):
        return None
    try:
        return ScriptModel.build(ast.parse(text))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _secret_names(model: ScriptModel | None) -> dict[int, set[str]]:
    """Line → string literals there that provably name a secret (kept readable by the redaction)."""
    names: dict[int, set[str]] = {}
    try:
        literals = secret_name_literals(model) if model is not None else []
    except RecursionError:
        literals = []
    for constant in literals:
        if constant.lineno == constant.end_lineno and isinstance(constant.value, str):
            names.setdefault(constant.lineno, set()).add(constant.value)
    return names


def _redact_positional_credentials(text: str, model: ScriptModel | None) -> str:
    """Replace password literals passed by position to `connect(...)` (no name says they are secret)."""
    if model is None:
        return text
    lines = text.split("\n")
    literals = [node for call in model.calls for node in positional_secret_literals(model, call)]
    # Right to left within a line, so earlier column offsets stay valid.
    for node in sorted(literals, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        if node.lineno != node.end_lineno or node.end_col_offset is None:
            continue
        raw = lines[node.lineno - 1].encode("utf-8")  # AST columns are UTF-8 byte offsets
        replaced = raw[: node.col_offset] + f'"{REDACTED}"'.encode() + raw[node.end_col_offset :]
        lines[node.lineno - 1] = replaced.decode("utf-8", "replace")
    return "\n".join(lines)


def inspect_script(
    data: bytes,
    *,
    location: str,
    max_bytes: int,
    job_language: str | None = None,
    known_secrets: Iterable[str] = (),
) -> ScriptInfo:
    """Classify and decode a script; `known_secrets` (secret argument values) are redacted from its text."""
    digest = hashlib.sha256(data).hexdigest()
    common: dict[str, Any] = {"location": location, "sha256": digest, "size_bytes": len(data)}
    if len(data) > max_bytes:
        note = _script_finding(
            "script-too-large", "medium", None,
            f"Script is {len(data)} bytes, over the {max_bytes}-byte analysis limit; not analysed.",
        )
        return ScriptInfo(kind="too_large", findings=(note,), **common)
    if data.startswith(_ARCHIVE_MAGIC) or b"\x00" in data:
        what = "an archive (zip/gzip)" if data.startswith(_ARCHIVE_MAGIC) else "binary (NUL bytes)"
        note = _script_finding(
            "script-binary", "medium", None, f"Script is {what}, not source text; not analysed."
        )
        return ScriptInfo(kind="binary", findings=(note,), **common)
    text, encoding, notes = _decode(data)
    if not text.strip():
        note = _script_finding(
            "script-empty", "medium", None, "Script is empty: the job does nothing when it runs."
        )
        return ScriptInfo(kind="empty", text=text, encoding=encoding, findings=(note,), **common)
    scala = location.lower().endswith(".scala") or (job_language or "").strip().lower() == "scala"
    model = None if scala else _source_model(text)
    names = _secret_names(model)
    notes += _secret_findings(text, names)
    if scala:
        notes.append(_script_finding(
            "scala-not-analysed", "info", None,
            "Scala script: only secrets are checked; the code rules and tools are Python-only.",
        ))
    source = text if scala else _redact_positional_credentials(text, model)
    redacted = redact_text(source, known_secrets, python=not scala, keep=names)
    return ScriptInfo(
        kind="scala" if scala else "python", text=redacted, encoding=encoding, findings=tuple(notes), **common
    )
