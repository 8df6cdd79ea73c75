"""detect-secrets' token detectors (AWS, GitHub, Slack, private keys, …) and entropy checks, run over whole texts."""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from detect_secrets.plugins.base import BasePlugin
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString

# detect-secrets (and the requests library it imports: 120 modules, 0.1 s) is imported when a script is
# first scanned, not when the code location loads: every inventory command would pay for it.

# Entropy limits are detect-secrets' defaults; the length floor keeps short ids and words out.
BASE64_ENTROPY_LIMIT = 4.5
HEX_ENTROPY_LIMIT = 3.0
MIN_ENTROPY_STRING_LENGTH = 20
MIN_HEX_STRING_LENGTH = 32


# Legacy OpenAI keys carry this marker; the project name before it is short.
_OPENAI_MARKER = "T3BlbkFJ"
_OPENAI_WINDOW = 200


@cache
def _token_plugins() -> tuple[BasePlugin, ...]:
    """detect-secrets' shape-based detectors; the entropy and keyword ones are handled separately.

    NpmDetector is left out: it matches `.npmrc` files, never job scripts, and its `//.+/:` pattern
    is quadratic on hostile input.
    """
    from detect_secrets.plugins.artifactory import ArtifactoryDetector
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
    from detect_secrets.plugins.basic_auth import BasicAuthDetector
    from detect_secrets.plugins.discord import DiscordBotTokenDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.mailchimp import MailchimpDetector
    from detect_secrets.plugins.openai import OpenAIDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector
    from detect_secrets.plugins.pypi_token import PypiTokenDetector
    from detect_secrets.plugins.sendgrid import SendGridDetector
    from detect_secrets.plugins.slack import SlackDetector
    from detect_secrets.plugins.square_oauth import SquareOAuthDetector
    from detect_secrets.plugins.stripe import StripeDetector
    from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
    from detect_secrets.plugins.twilio import TwilioKeyDetector

    class LinearJwtDetector(JwtTokenDetector):
        """detect-secrets' JWT pattern made linear: its `eyJ[...]+\\.` backtracks quadratically on `eyJeyJeyJ…`."""

        denylist = [re.compile(r"(?<![A-Za-z0-9_=-])eyJ[A-Za-z0-9_=-]++\.[A-Za-z0-9_=-]++\.?")]

    class LinearOpenAIDetector(OpenAIDetector):
        """detect-secrets' OpenAI pattern, tried only next to its fixed `T3BlbkFJ` marker (quadratic on `sk-sk-…`)."""

        def analyze_string(self, string: str) -> Generator[str, None, None]:
            start = string.find(_OPENAI_MARKER)
            while start != -1:
                window = string[max(0, start - _OPENAI_WINDOW) : start + len(_OPENAI_MARKER) + 20]
                yield from super().analyze_string(window)
                start = string.find(_OPENAI_MARKER, start + 1)

    classes: list[type[BasePlugin]] = [
        AWSKeyDetector, ArtifactoryDetector, AzureStorageKeyDetector, BasicAuthDetector,
        DiscordBotTokenDetector, GitHubTokenDetector, GitLabTokenDetector, LinearJwtDetector,
        MailchimpDetector, LinearOpenAIDetector, PrivateKeyDetector, PypiTokenDetector,
        SendGridDetector, SlackDetector, SquareOAuthDetector, StripeDetector,
        TelegramBotTokenDetector, TwilioKeyDetector,
    ]
    return tuple(cls() for cls in classes)


@cache
def _entropy_plugins() -> tuple[Base64HighEntropyString, HexHighEntropyString]:
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString

    return Base64HighEntropyString(limit=BASE64_ENTROPY_LIMIT), HexHighEntropyString(limit=HEX_ENTROPY_LIMIT)


# Glue Studio names every node `<Kind>_node<epoch milliseconds>` (AmazonS3_node1716295840846) and uses the
# name as a variable and as transformation_ctx; some of them pass the entropy test, none is a secret.
_GLUE_STUDIO_NODE = re.compile(r"\w+_node\d{10,}")


def is_high_entropy(candidate: str) -> bool:
    """A quoted-string-sized token with detect-secrets' high entropy (base64 or hex charset)."""
    base64, hexa = _entropy_plugins()
    if len(candidate) < MIN_ENTROPY_STRING_LENGTH or "://" in candidate or _GLUE_STUDIO_NODE.fullmatch(candidate):
        return False
    if re.fullmatch(r"[0-9a-fA-F]+", candidate):
        long_enough = len(candidate) >= MIN_HEX_STRING_LENGTH
        return long_enough and hexa.calculate_shannon_entropy(candidate) > hexa.entropy_limit
    return (
        re.fullmatch(r"[A-Za-z0-9+/=_\-]+", candidate) is not None
        and base64.calculate_shannon_entropy(candidate) > base64.entropy_limit
    )


@lru_cache(maxsize=2)
def token_hits(text: str) -> frozenset[tuple[str, str]]:
    """(kind, value) for every detect-secrets shape and quoted high-entropy string in `text`.

    The plugins are line-oriented, but running each regex once over the whole text is an order
    of magnitude faster than calling it per line on a 100k-line script. Cached because a script
    is scanned by find_secrets and then by redact_text.
    """
    return frozenset(_scan_tokens(text))


def _scan_tokens(text: str) -> Iterator[tuple[str, str]]:
    for plugin in _token_plugins():
        for value in plugin.analyze_string(text):
            if value:
                yield plugin.secret_type, value
    base64, _ = _entropy_plugins()
    for quoted in base64.regex.findall(text):
        value = quoted[1] if isinstance(quoted, tuple) else quoted
        if is_high_entropy(value) and not _used_as_a_name(value, text):
            yield "High Entropy String", value


def _used_as_a_name(value: str, text: str) -> bool:
    """True when `value` also stands unquoted in the text as an identifier (a variable, a column): code names
    it, so it is no secret (and redacting it would break the script)."""
    if not value.isidentifier():
        return False
    return re.search(rf"(?<![\w'\"]){re.escape(value)}(?![\w'\"])", text) is not None
