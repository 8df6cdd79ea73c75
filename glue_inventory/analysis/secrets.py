"""The one place secrets are recognised and redacted: Glue arguments, scripts, logs, prompts.

detect-secrets plugins find the known token shapes; the few patterns it cannot see in
free text (assignments to secret-looking names, credentials inside URLs) are added here.
Redaction never adds or removes a line, so line numbers of findings stay valid.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from functools import cache

from detect_secrets.plugins.base import BasePlugin
from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString

REDACTED = "***REDACTED***"

# Shorter "known secrets" would blank out ordinary words all over the text.
MIN_KNOWN_SECRET_LENGTH = 4

# Entropy limits are detect-secrets' defaults; the length floor keeps short ids and words out.
BASE64_ENTROPY_LIMIT = 4.5
HEX_ENTROPY_LIMIT = 3.0
MIN_ENTROPY_STRING_LENGTH = 20
MIN_HEX_STRING_LENGTH = 32

_SENSITIVE_WORD = (
    r"(?:passw(?:or)?d|passwd|pwd|pass|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|secret[_-]?key|private[_-]?key|client[_-]?key|signing[_-]?key|master[_-]?key"
    r"|encryption[_-]?key|credentials?|auth|bearer|session[_-]?key)"
)
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

_URL_CREDENTIALS = re.compile(
    r"(?P<head>[a-z][a-z0-9+.\-]*://[^\s:/@'\"]+:)(?P<value>[^\s@/'\"]+)(?=@)", re.IGNORECASE
)
# The body is limited to key characters (PEM base64, headers, `\n` escapes) so that a script that
# merely mentions the header, or an unterminated block, does not lose everything after it.
_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s\\:,.\-]*?"
    r"(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|(?=[^A-Za-z0-9+/=\s\\:,.\-])|\Z)"
)
_NAME = rf"[\w.\-]*{_SENSITIVE_WORD}[\w.\-]*"
# `password = "x"`, `password: str = "x"`, `"password": "x"`, `'db_pwd' : 'x'`, Scala/JS the same.
_QUOTED_ASSIGNMENT = re.compile(
    rf"(?P<head>(?P<q0>[\"']?)\b{_NAME}(?P=q0)(?:\s*:\s*[A-Za-z_][\w.\[\], |]*?)?"
    r"\s*(?::=|=>|[:=])\s*[rbuRBU]?(?P<q>\"|'))"
    r"(?P<value>(?:\\.|(?!(?P=q)).)+)(?=(?P=q))",
    re.IGNORECASE,
)
# `PWD=x`, `;password=x;`, `?password=x&` — an unquoted value that ends at a separator, so Python
# keyword arguments such as `password=pw)` or `password=get_pw()` are left alone (and stay parseable).
_BARE_ASSIGNMENT = re.compile(
    rf"(?P<head>(?<![\w.\-]){_NAME}=)(?P<value>[^\s'\"`,;&(){{}}\[\]<>]+)(?=$|[\s;&'\"])",
    re.IGNORECASE | re.MULTILINE,
)
# YAML / properties / log style `password: hunter2` at the end of a line; Python annotations excluded.
_COLON_ASSIGNMENT = re.compile(
    rf"(?P<head>(?<![\w.\-]){_NAME}:[ \t]*)(?P<value>[^\s'\"`,;(){{}}\[\]]+)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_TYPE_NAMES = {
    "str", "bytes", "int", "bool", "none", "optional", "any", "secretstr", "string", "dict", "list",
}


@cache
def _token_plugins() -> tuple[BasePlugin, ...]:
    """detect-secrets' shape-based detectors (the entropy and keyword ones are handled separately)."""
    from detect_secrets.plugins.artifactory import ArtifactoryDetector
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
    from detect_secrets.plugins.basic_auth import BasicAuthDetector
    from detect_secrets.plugins.discord import DiscordBotTokenDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.mailchimp import MailchimpDetector
    from detect_secrets.plugins.npm import NpmDetector
    from detect_secrets.plugins.openai import OpenAIDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector
    from detect_secrets.plugins.pypi_token import PypiTokenDetector
    from detect_secrets.plugins.sendgrid import SendGridDetector
    from detect_secrets.plugins.slack import SlackDetector
    from detect_secrets.plugins.square_oauth import SquareOAuthDetector
    from detect_secrets.plugins.stripe import StripeDetector
    from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
    from detect_secrets.plugins.twilio import TwilioKeyDetector

    classes: list[type[BasePlugin]] = [
        AWSKeyDetector, ArtifactoryDetector, AzureStorageKeyDetector, BasicAuthDetector,
        DiscordBotTokenDetector, GitHubTokenDetector, GitLabTokenDetector, JwtTokenDetector,
        MailchimpDetector, NpmDetector, OpenAIDetector, PrivateKeyDetector, PypiTokenDetector,
        SendGridDetector, SlackDetector, SquareOAuthDetector, StripeDetector,
        TelegramBotTokenDetector, TwilioKeyDetector,
    ]
    return tuple(cls() for cls in classes)


@cache
def _entropy_plugins() -> tuple[Base64HighEntropyString, HexHighEntropyString]:
    return Base64HighEntropyString(limit=BASE64_ENTROPY_LIMIT), HexHighEntropyString(limit=HEX_ENTROPY_LIMIT)


def _is_high_entropy(candidate: str) -> bool:
    base64, hexa = _entropy_plugins()
    if len(candidate) < MIN_ENTROPY_STRING_LENGTH or "://" in candidate:
        return False
    if re.fullmatch(r"[0-9a-fA-F]+", candidate):
        long_enough = len(candidate) >= MIN_HEX_STRING_LENGTH
        return long_enough and hexa.calculate_shannon_entropy(candidate) > hexa.entropy_limit
    return (
        re.fullmatch(r"[A-Za-z0-9+/=_\-]+", candidate) is not None
        and base64.calculate_shannon_entropy(candidate) > base64.entropy_limit
    )


def _token_hits(text: str) -> Iterator[tuple[str, str]]:
    """(kind, value) for every detect-secrets shape and quoted high-entropy string in `text`."""
    for plugin in _token_plugins():
        for value in plugin.analyze_string(text):
            if value:
                yield plugin.secret_type, value
    base64, _ = _entropy_plugins()
    for quoted in base64.regex.findall(text):
        value = quoted[1] if isinstance(quoted, tuple) else quoted
        if _is_high_entropy(value):
            yield "High Entropy String", value


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


def value_looks_secret(value: str) -> bool:
    """True when a whole value (argument, string literal) is a token, a credential URL or high entropy."""
    if not value or _NUMBER.match(value.strip()):
        return False
    if any(True for _ in _token_hits(value)):
        return True
    if _URL_CREDENTIALS.search(value) or re.search(r"(?i)[?;&]\s*password\s*=\s*[^;&\s]+", value):
        return True
    return _is_high_entropy(value.strip())


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
        name: REDACTED if name in secret else redact_text("" if value is None else str(value))
        for name, value in (args or {}).items()
    }


# Every character str.splitlines() breaks on: redaction keeps them so line numbers stay valid.
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def _same_lines(matched: str) -> str:
    """The marker, followed by the line breaks the replaced text had."""
    return REDACTED + "".join(ch for ch in matched if ch in _LINE_BREAKS)


def _replace_value(pattern: re.Pattern[str], text: str, skip: Iterable[str] = ()) -> str:
    skipped = set(skip)

    def repl(match: re.Match[str]) -> str:
        value = match.group("value")
        if value == REDACTED or value.lower() in skipped:
            return match.group(0)
        return match.group("head") + _same_lines(value) + match.group(0)[match.end("value") - match.start() :]

    return pattern.sub(repl, text)


def _python_literal_spans(text: str) -> list[tuple[int, int]] | None:
    """Offsets of string and comment tokens, or None when `text` does not tokenize as Python."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    spans = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.STRING, tokenize.COMMENT):
                (row, col), (end_row, end_col) = token.start, token.end
                spans.append((starts[row - 1] + col, starts[end_row - 1] + end_col))
    except (tokenize.TokenError, SyntaxError, IndexError):
        return None
    return spans


def _redact_unquoted(text: str, python: bool) -> str:
    """Unquoted `name=value` forms; in Python source only inside strings and comments, where they are data."""
    spans = _python_literal_spans(text) if python else None
    if spans is None:
        spans = [(0, len(text))]
    pieces, position = [], 0
    for start, end in spans:
        chunk = _replace_value(_BARE_ASSIGNMENT, text[start:end])
        chunk = _replace_value(_COLON_ASSIGNMENT, chunk, skip=_TYPE_NAMES)
        pieces += [text[position:start], chunk]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def redact_text(text: str, known_secrets: Iterable[str] = (), *, python: bool = False) -> str:
    """`text` with secret values replaced by `***REDACTED***`; the number of lines never changes.

    With `python=True` the result of redacting parseable Python source still parses: unquoted
    `password=pw` is code there (a keyword argument), not a secret.
    """
    if not text:
        return text
    known = {s for s in known_secrets if s and len(s) >= MIN_KNOWN_SECRET_LENGTH}
    for secret in sorted(known, key=len, reverse=True):
        text = text.replace(secret, _same_lines(secret))
    text = _PRIVATE_KEY_BLOCK.sub(lambda m: _same_lines(m.group(0)), text)
    text = _replace_value(_URL_CREDENTIALS, text)
    text = _replace_value(_QUOTED_ASSIGNMENT, text)
    text = _redact_unquoted(text, python)
    lines = text.split("\n")
    for index, line in enumerate(lines):
        values = {value for _, value in _token_hits(line) if REDACTED not in value}
        for value in sorted(values, key=len, reverse=True):
            line = line.replace(value, REDACTED)
        lines[index] = line
    return "\n".join(lines)


def find_secrets(text: str) -> list[tuple[int, str]]:
    """(1-based line number, kind of secret) for each finding in `text`; values are never returned."""
    found: set[tuple[int, str]] = set()
    for match in _PRIVATE_KEY_BLOCK.finditer(text):
        found.add((text.count("\n", 0, match.start()) + 1, "Private Key"))
    patterns = (
        (_URL_CREDENTIALS, "Credentials in URL", ()),
        (_QUOTED_ASSIGNMENT, "Secret assignment", ()),
        (_BARE_ASSIGNMENT, "Secret assignment", ()),
        (_COLON_ASSIGNMENT, "Secret assignment", _TYPE_NAMES),
    )
    for pattern, kind, skip in patterns:
        for match in pattern.finditer(text):
            if match.group("value").lower() not in skip and match.group("value") != REDACTED:
                found.add((text.count("\n", 0, match.start("value")) + 1, kind))
    for number, line in enumerate(text.split("\n"), start=1):
        for kind, _ in _token_hits(line):
            found.add((number, kind))
    return sorted(found)
