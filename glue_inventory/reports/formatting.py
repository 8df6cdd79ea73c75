"""Shared vocabulary of the reports: orders, rounding, time parsing and the Jinja environments."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from glue_inventory.analysis.candidates import REASONS
from glue_inventory.reports.paths import report_href

if TYPE_CHECKING:  # imported where a report is rendered, not by every process that imports the definitions
    from jinja2 import Environment

STATUS_ORDER = ("active", "idle", "stale", "abandoned", "never_run", "new", "deleted")
PRIORITY_ORDER = ("critical", "high", "medium", "low")
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
# The candidate reasons, in the order the analysis defines (and reports list) them.
REASON_ORDER = REASONS

# Markdown punctuation that can start emphasis, links, code, HTML, tables or strikethrough.
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|~&])")
# Underscores only form emphasis at a word boundary (CommonMark flanking rules), so
# `daily_etl_job` stays readable in the raw file.
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")


class Trusted(str):
    """Markdown our own filters built (links, code spans, fences): emitted as is, not escaped again."""


def cents(value: float | int | None) -> float | None:
    """Money for output; analysis keeps full precision and only reports round."""
    return None if value is None else round(float(value), 2) + 0.0  # + 0.0: never "-0.0" for a tiny negative


def pick(row: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """Every field a template reads, None where the producer left it out (templates are strict)."""
    return {field: row.get(field) for field in fields}


def rank(order: tuple[str, ...], value: str | None) -> int:
    """Position in an order; unknown or missing values sort last."""
    return order.index(value) if value in order else len(order)


def ordered_keys(order: tuple[str, ...], present: Iterable[str]) -> list[str]:
    """Keys of `order` first in that order, then any unknown ones alphabetically."""
    seen = set(present)
    return [key for key in order if key in seen] + sorted(seen - set(order))


def parse_time(value: str | datetime | date | None) -> datetime | None:
    """ISO text or datetime to an aware UTC datetime; naive values are taken as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iso(value: str | datetime | date | None) -> str | None:
    parsed = parse_time(value)
    return None if parsed is None else parsed.isoformat().replace("+00:00", "Z")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    if isinstance(obj, datetime | date):
        return iso(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to a report")


# Without `indent`, json uses its C encoder; with it, a pure-Python one (about 3x slower on a fleet's
# inventory). to_json indents the objects itself and writes each record on one line.
_COMPACT = json.JSONEncoder(ensure_ascii=False, default=_json_default, separators=(", ", ": "))


def to_json(data: Any) -> str:
    """Stable, readable JSON: objects indented, a list of records (objects or lists) one record per line,
    sets as sorted lists and datetimes as ISO text."""
    return _indented(data, "") + "\n"


def _indented(value: Any, pad: str) -> str:
    inner = pad + "  "
    if isinstance(value, Mapping) and value and all(isinstance(key, str) for key in value):
        items = ",\n".join(f"{inner}{_COMPACT.encode(key)}: {_indented(item, inner)}" for key, item in value.items())
        return f"{{\n{items}\n{pad}}}"
    if isinstance(value, list | tuple) and value and all(isinstance(item, Mapping | list | tuple) for item in value):
        items = ",\n".join(inner + _COMPACT.encode(item) for item in value)
        return f"[\n{items}\n{pad}]"
    return _COMPACT.encode(value)


def md_escape(value: Any) -> str:
    """Job names, tags and messages are user data: shown as text, never as Markdown or HTML."""
    text = _LINE_BREAKS.sub(" ", str(value))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_UNDERSCORE.sub(r"\\_", text)


def md_code(value: Any) -> Trusted:
    """An inline code span that survives backticks and pipes in the text."""
    text = _LINE_BREAKS.sub(" ", str(value)).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Trusted(f"{ticks}{pad}{text}{pad}{ticks}")


def md_fence(lines: Iterable[str]) -> Trusted:
    """A fenced code block longer than any backtick run inside, so evidence cannot close it."""
    body = [line.replace("\r", "") for line in lines]
    longest = max((len(run) for line in body for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return Trusted("\n".join([fence, *body, fence]))


def md_link(text: Any, href: str) -> Trusted:
    return Trusted(f"[{md_escape(text)}](<{href}>)")


def usd(value: float | int | None) -> str:
    if value is None:
        return "n/a"
    amount = cents(value) or 0.0
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


def pct(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def humanize(key: str) -> str:
    return key.replace("_", " ").replace("-", " ").strip().capitalize()


def _md_finalize(value: Any) -> Any:
    # Every `{{ }}` in a Markdown template is escaped unless one of our filters built it.
    if value is None:
        return ""
    if isinstance(value, Trusted):
        return str(value)
    return md_escape(value)


def _common_filters(env: Environment) -> Environment:
    env.filters.update(usd=usd, pct=pct, humanize=humanize, href=report_href)
    return env


def markdown_env() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("glue_inventory.reports", "templates"),
        # HTML escaping is wrong for Markdown; _md_finalize escapes every value for Markdown instead.
        autoescape=False,  # noqa: S701
        finalize=_md_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(code=md_code, fence=md_fence, link=md_link)
    return _common_filters(env)


def html_env() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("glue_inventory.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return _common_filters(env)


def counts_in_order(order: tuple[str, ...], counts: Mapping[str, int]) -> dict[str, int]:
    return {key: counts[key] for key in ordered_keys(order, counts)}
