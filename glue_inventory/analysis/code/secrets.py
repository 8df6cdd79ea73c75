"""The one place secrets are recognised and redacted: Glue arguments, scripts, logs, prompts.

detect-secrets plugins find the known token shapes; the few patterns it cannot see in
free text (assignments to secret-looking names, credentials inside URLs) are added here.
Redaction never adds or removes a line, so line numbers of findings stay valid.
"""

from __future__ import annotations

import bisect
import functools
import io
import re
import tokenize
from collections.abc import Collection, Iterable, Mapping

from glue_inventory.analysis.code.secrets_tokens import is_high_entropy, token_hits

REDACTED = "***REDACTED***"

# Shorter "known secrets" would blank out ordinary words all over the text.
MIN_KNOWN_SECRET_LENGTH = 4

# A name is split into tokens so `--passenger_count` or `--bypass_cache` do not match `pass`.
_SECRET_NAME_TOKENS = re.compile(
    r"^(?:passw(?:or)?d|passwd|pwd|pass|secret|token|apikey|credentials?|auth|bearer|privatekey)$"
)
_SECRET_NAME_PAIRS = {
    ("api", "key"), ("access", "key"), ("secret", "key"), ("private", "key"), ("client", "key"),
    ("signing", "key"), ("master", "key"), ("encryption", "key"), ("session", "key"), ("auth", "key"),
}
# Names ending like these hold a reference to a secret (Secrets Manager id, SSM path), not the secret.
_REFERENCE_SUFFIXES = {
    "name", "id", "arn", "path", "location", "file", "uri", "url", "region", "type", "prefix",
    "bucket", "parameter", "param", "ref", "endpoint", "header", "length", "ttl", "expiry", "env",
    "var", "field", "column", "col", "prompt", "label", "pattern", "regex", "format", "template",
    "dir", "folder", "kind", "policy", "rotation", "version", "count", "enabled", "required",
}
_BOOLEAN_OR_EMPTY = {"", "true", "false", "yes", "no", "none", "null", "enabled", "disabled", "0", "1"}
_REFERENCE_VALUE = re.compile(
    r"^(?:arn:aws[\w-]*:|s3a?://|ssm:|secretsmanager:|\{\{resolve:|\$\{|/aws/|resolve:)", re.IGNORECASE
)
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")

# Every pattern below is linear in the line length (possessive quantifiers, anchored starts): a
# hostile script of one megabyte-long line must not make the regex engine backtrack for hours.
# Names are matched loosely and judged by name_looks_secret() afterwards.
_URL_CREDENTIALS = re.compile(
    r"(?P<head>(?<![a-z0-9+.\-])[a-z][a-z0-9+.\-]*+://[^\s:/@'\"]++:)(?P<value>[^\s@/'\"]++)(?=@)", re.IGNORECASE
)
# The body is limited to key characters (PEM base64, headers, `\n` escapes) so that a script that
# merely mentions the header, or an unterminated block, does not lose everything after it.
_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s\\:,.\-]*?"
    r"(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|(?=[^A-Za-z0-9+/=\s\\:,.\-])|\Z)"
)
_NAME = r"(?P<name>[\w.\-]++)"
# `password = "x"`, `password: str = "x"`, `"password": "x"`, `'db_pwd' : 'x'`, Scala/JS the same.
_QUOTED_ASSIGNMENT = re.compile(
    r"(?P<head>(?P<q0>[\"']?)(?<![\w.\-])" + _NAME + r"(?P=q0)(?:[ \t]*+:[ \t]*+[A-Za-z_][\w.\[\], |]{0,60}?)?"
    r"[ \t]*+(?::=|=>|[:=])[ \t]*+[rbuRBU]?(?P<q>\"|'))"
    r"(?P<value>(?:\\.|(?!(?P=q))[^\\\n])++)(?=(?P=q))"
)
# `PWD=x`, `;password=x;`, `?password=x&` — an unquoted value that ends at a separator, so Python
# keyword arguments such as `password=pw)` or `password=get_pw()` are left alone (and stay parseable).
_BARE_ASSIGNMENT = re.compile(
    r"(?P<head>(?<![\w.\-:/])" + _NAME + r"=)(?!=)(?P<value>[^\s'\"`,;&(){}\[\]<>]++)(?=$|[\s;&'\"])",
    re.MULTILINE,
)
# YAML / properties / log style `password: hunter2` at the end of a line; Python annotations excluded.
_COLON_ASSIGNMENT = re.compile(
    r"(?P<head>(?<![\w.\-:/])" + _NAME + r":[ \t]*+)(?P<value>[^\s'\"`,;(){}\[\]]++)[ \t]*+$",
    re.MULTILINE,
)
# Substrings every secret-looking name contains: a plain `in` test per line is ~50x cheaper
# than the patterns, and almost every line of a script fails it.
_HINT_WORDS = ("pass", "pwd", "secret", "token", "key", "credential", "auth", "bearer")
_TYPE_NAMES = {
    "str", "bytes", "int", "bool", "none", "optional", "any", "secretstr", "string", "dict", "list",
}
# Templates, masks and sample values, not secrets: `${password}`, `%(pwd)s`, `{pwd}`, `<password>`,
# `$PGPASSWORD`, `********`, `YOUR_PASSWORD`, `your-api-key`, `DB_PASSWORD` (an environment variable name).
_PLACEHOLDER_VALUE = re.compile(
    r"^(?:[$%{<]|\*+$|(?i:your|enter|insert|replace|example|dummy|placeholder|xxx)[\w\-]*$|[A-Z]+(?:_[A-Z0-9]+)+$)"
)


# A fleet repeats its argument names and values (`--enable-metrics: true`, `team: data`): each is judged
# once per process. The caches hold only what the process already read; nothing is written anywhere.
_JUDGED = 1 << 16


@functools.lru_cache(maxsize=_JUDGED)
def name_looks_secret(name: str) -> bool:
    """True for names such as `--db_password`, `apiToken`, `SECRET_KEY`; false for `--secret_name`."""
    tokens = [t for t in re.split(r"[^a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()) if t]
    if not tokens or tokens[-1] in _REFERENCE_SUFFIXES:
        return False
    if any(_SECRET_NAME_TOKENS.match(t) for t in tokens):
        return True
    return any(pair in _SECRET_NAME_PAIRS for pair in zip(tokens, tokens[1:], strict=False))


def value_is_harmless(value: str) -> bool:
    """True for values that cannot be a secret: empty, booleans, numbers, ARNs and S3 or SSM references."""
    stripped = value.strip()
    return (
        stripped.lower() in _BOOLEAN_OR_EMPTY
        or _NUMBER.match(stripped) is not None
        or _REFERENCE_VALUE.match(stripped) is not None
    )


@functools.lru_cache(maxsize=_JUDGED)
def value_looks_secret(value: str) -> bool:
    """True when a whole value (argument, string literal) is a token, a credential URL or high entropy."""
    if not value or _NUMBER.match(value.strip()):
        return False
    if token_hits(value):
        return True
    if any(_is_secret_match(match) for match in _URL_CREDENTIALS.finditer(value)):
        return True
    if re.search(r"(?i)[?;&]\s*password\s*=\s*(?![$%{<*])[^;&\s]+", value):
        return True
    return is_high_entropy(value.strip())


def secret_argument_names(default_arguments: dict[str, str]) -> list[str]:
    """Names of Glue DefaultArguments whose name or value looks like a secret (never the values), sorted."""
    flagged = []
    for name, raw in (default_arguments or {}).items():
        value = "" if raw is None else str(raw)
        by_name = name_looks_secret(str(name)) and not value_is_harmless(value)
        if by_name or value_looks_secret(value):
            flagged.append(str(name))
    return sorted(flagged)


def redact_arguments(args: dict[str, str]) -> dict[str, str]:
    """The same arguments with the values of secret-looking ones replaced by the redaction marker."""
    secret = set(secret_argument_names(args))
    return {
        name: REDACTED if name in secret else _redacted_value("" if value is None else str(value))
        for name, value in (args or {}).items()
    }


@functools.lru_cache(maxsize=_JUDGED)
def _redacted_value(value: str) -> str:
    return redact_text(value)


# Every character str.splitlines() breaks on: redaction keeps them so line numbers stay valid.
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def _same_lines(matched: str) -> str:
    """The marker, followed by the line breaks the replaced text had."""
    return REDACTED + "".join(ch for ch in matched if ch in _LINE_BREAKS)


def _hinted(line: str) -> bool:
    lowered = line.lower()
    return any(word in lowered for word in _HINT_WORDS)


def is_placeholder(value: str) -> bool:
    """True for template variables, masks and sample values that stand where a secret would go."""
    return _PLACEHOLDER_VALUE.match(value.strip()) is not None


def _is_secret_match(match: re.Match[str], skip: Iterable[str] = (), keep: Collection[str] = ()) -> bool:
    """The value is real (not a placeholder, type name, earlier redaction or a value to keep) and the name is
    secret-like."""
    value = match.group("value")
    if value == REDACTED or value.lower() in skip or value in keep or is_placeholder(value):
        return False
    name = match.groupdict().get("name")
    return name is None or name_looks_secret(name)


def _replace_value(pattern: re.Pattern[str], text: str, skip: Iterable[str] = (), keep: Collection[str] = ()) -> str:
    def repl(match: re.Match[str]) -> str:
        if not _is_secret_match(match, skip, keep):
            return match.group(0)
        tail = match.group(0)[match.end("value") - match.start() :]
        return match.group("head") + _same_lines(match.group("value")) + tail

    return pattern.sub(repl, text)


def _literal_columns(text: str, rows: set[int]) -> dict[int, list[tuple[int, int]]] | None:
    """For the given 0-based rows, the column ranges of string and comment tokens; None if not Python."""
    columns: dict[int, list[tuple[int, int]]] = {row: [] for row in rows}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type not in (tokenize.STRING, tokenize.COMMENT):
                continue
            (first, start), (last, end) = token.start, token.end
            for row in range(first - 1, last):
                if row in columns:
                    columns[row].append((start if row == first - 1 else 0, end if row == last - 1 else 1 << 30))
    except (tokenize.TokenError, SyntaxError, IndexError):
        return None
    return columns


def _redact_unquoted_line(line: str, spans: list[tuple[int, int]] | None, keep: Collection[str]) -> str:
    """Unquoted `name=value` forms; with `spans`, only inside them (Python strings and comments)."""
    pieces, position = [], 0
    for start, end in sorted(spans if spans is not None else [(0, len(line))]):
        chunk = _replace_value(_BARE_ASSIGNMENT, line[start:end], keep=keep)
        chunk = _replace_value(_COLON_ASSIGNMENT, chunk, skip=_TYPE_NAMES, keep=keep)
        pieces += [line[position:start], chunk]
        position = max(position, min(end, len(line)))
    pieces.append(line[position:])
    return "".join(pieces)


def _unquoted_match(line: str, keep: Collection[str]) -> bool:
    bare = any(_is_secret_match(match, keep=keep) for match in _BARE_ASSIGNMENT.finditer(line))
    return bare or any(_is_secret_match(match, _TYPE_NAMES, keep) for match in _COLON_ASSIGNMENT.finditer(line))


def redact_text(text: str, known_secrets: Iterable[str] = (), *, python: bool = False,
                keep: Mapping[int, Collection[str]] | None = None) -> str:
    """`text` with secret values replaced by `***REDACTED***`; the number of lines never changes.

    With `python=True` the result of redacting parseable Python source still parses: unquoted
    `password=pw` is code there (a keyword argument), not a secret. `keep` maps a 1-based line to
    values proven not to be secrets there (a Secrets Manager secret's name): they stay readable.
    """
    keep = keep or {}
    if not text:
        return text
    known = {s for s in known_secrets if s and len(s) >= MIN_KNOWN_SECRET_LENGTH}
    for secret in sorted(known, key=len, reverse=True):
        text = text.replace(secret, _same_lines(secret))
    text = _PRIVATE_KEY_BLOCK.sub(lambda m: _same_lines(m.group(0)), text)
    lines = text.split("\n")
    # The assignment patterns are line-local; a cheap keyword test skips almost every line.
    for row, line in enumerate(lines):
        if "://" in line:
            lines[row] = _replace_value(_URL_CREDENTIALS, line, keep=keep.get(row + 1, ()))
    unquoted = {row for row, line in enumerate(lines) if _hinted(line) and _unquoted_match(line, keep.get(row + 1, ()))}
    columns = _literal_columns("\n".join(lines), unquoted) if python and unquoted else None
    for row in sorted(unquoted):
        lines[row] = _redact_unquoted_line(lines[row], columns[row] if columns is not None else None,
                                           keep.get(row + 1, ()))
    for row, line in enumerate(lines):
        if _hinted(line):
            lines[row] = _replace_value(_QUOTED_ASSIGNMENT, line, keep=keep.get(row + 1, ()))
    text = "\n".join(lines)
    kept = {value for values in keep.values() for value in values}
    values = {value for _, value in token_hits(text) if REDACTED not in value and value not in kept}
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, _same_lines(value))
    return text


def find_secrets(text: str, keep: Mapping[int, Collection[str]] | None = None) -> list[tuple[int, str]]:
    """(1-based line number, kind of secret) for each finding in `text`; values are never returned.
    `keep` as for redact_text: values proven not to be secrets on their line."""
    keep = keep or {}
    found: set[tuple[int, str]] = set()
    newlines = [index for index, char in enumerate(text) if char == "\n"]

    def line_of(offset: int) -> int:
        return bisect.bisect_left(newlines, offset) + 1

    for match in _PRIVATE_KEY_BLOCK.finditer(text):
        found.add((line_of(match.start()), "Private Key"))
    patterns = (
        (_QUOTED_ASSIGNMENT, "Secret assignment", ()),
        (_BARE_ASSIGNMENT, "Secret assignment", ()),
        (_COLON_ASSIGNMENT, "Secret assignment", _TYPE_NAMES),
    )
    for number, line in enumerate(text.split("\n"), start=1):
        kept = keep.get(number, ())
        if "://" in line and any(_is_secret_match(match, keep=kept) for match in _URL_CREDENTIALS.finditer(line)):
            found.add((number, "Credentials in URL"))
        if not _hinted(line):
            continue
        for pattern, kind, skip in patterns:
            if any(_is_secret_match(match, skip, kept) for match in pattern.finditer(line)):
                found.add((number, kind))
    kept_values = {value for values in keep.values() for value in values}
    for kind, value in token_hits(text):
        if value in kept_values:
            continue
        start = text.find(value)
        while start != -1:
            found.add((line_of(start), kind))
            start = text.find(value, start + len(value))
    return sorted(found)
