"""Server-side pygal charts as inline SVG: no script, no external reference, native hover titles."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pygal
from pygal.etree import etree
from pygal.style import Style

from glue_inventory.reports.formatting import REASON_ORDER, STATUS_ORDER, ordered_keys, usd

# pygal appends a sys.meta_path hook for its map plugins (pygal.maps.*, unused here) that has no
# find_spec: Python's import system skips it, but tools that walk sys.meta_path themselves (pytest's
# importlib mode) fail on it. Nothing of ours needs it.
sys.meta_path[:] = [hook for hook in sys.meta_path if type(hook).__module__ != "pygal"]

Row = Mapping[str, Any]
TOP_JOBS = 20
# Owners and teams beyond this many are summed into "others" so the chart stays legible.
TOP_GROUPS = 12
LABEL_CHARS = 38
INACTIVITY_BUCKETS = ((0, 7, "0–7 d"), (8, 30, "8–30 d"), (31, 90, "31–90 d"), (91, 180, "91–180 d"),
                      (181, 365, "181–365 d"), (366, None, "> 1 year"))  # fmt: skip
FAILURE_BUCKETS = ((0.0, 0.0, "0%"), (0.0, 0.1, "≤ 10%"), (0.1, 0.25, "10–25%"), (0.25, 0.5, "25–50%"),
                   (0.5, 1.0, "50–100%"))  # fmt: skip

PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#14b8a6", "#64748b")
STATUS_COLORS = {"active": "#10b981", "idle": "#f59e0b", "stale": "#f97316", "abandoned": "#ef4444",
                 "never_run": "#8b5cf6", "new": "#2563eb", "deleted": "#94a3b8"}  # fmt: skip


def _style(colors: Sequence[str] = PALETTE) -> Style:
    return Style(
        background="transparent",
        plot_background="#ffffff",
        foreground="#2b3440",
        foreground_strong="#111827",
        foreground_subtle="#9aa5b1",
        font_family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
        colors=tuple(colors),
        title_font_size=20,
        label_font_size=14,
        major_label_font_size=14,
        value_font_size=13,
        legend_font_size=14,
        tooltip_font_size=14,
    )


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    svg: str


def _sanitize(root: Any) -> Any:
    """pygal's xml filter hook: drop its config <script> and comments (they carry pygal.org URLs),
    and give each value a <title> so hovering works without pygal's tooltip script from a CDN."""
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag if isinstance(child.tag, str) else ""
            if not tag or tag.endswith("script"):
                parent.remove(child)
        descs = {(d.get("class") or "").split(" ")[0]: d.text for d in parent if str(d.tag).endswith("desc")}
        if "value" in descs:
            title = etree.Element("title")
            label = descs.get("x_label") or descs.get("label")
            title.text = f"{label}: {descs['value']}" if label else descs["value"]
            parent.insert(0, title)
    for attribute in ("xmlns", "xmlns:xlink"):
        root.attrib.pop(attribute, None)
    return root


def ticks(values: Iterable[float], count: int = 5) -> list[float]:
    """About `count` round axis ticks from 0 to just above the largest value (1, 2, 2.5 or 5 × 10^k apart)."""
    top = max([0.0, *values])
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [round(i * step, 10) for i in range(math.ceil(top / step) + 1)]


def short_usd(value: float) -> str:
    """Axis labels: '$1.2k' keeps a dozen ticks readable; hover titles keep full cents."""
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"${value / limit:.3g}{suffix}"
    return f"${value:.0f}" if float(value).is_integer() or abs(value) >= 10 else f"${value:.2f}"


def _config(**options: Any) -> dict[str, Any]:
    return {
        "style": _style(),
        "js": [],
        "disable_xml_declaration": True,
        "width": 800,
        "height": 420,
        "show_legend": False,
        "truncate_label": LABEL_CHARS,
        "margin": 16,
        **options,
    }


def _render(chart: Any) -> str:
    chart.add_xml_filter(_sanitize)
    return chart.render(is_unicode=True)


def _bars(
    chart_id: str,
    title: str,
    values: Mapping[str, float],
    formatter: Callable[[float], str] = usd,
    horizontal: bool = False,
    height: int = 420,
) -> Chart:
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    axis = short_usd if formatter is usd else formatter
    chart = kind(**_config(height=height, value_formatter=axis, y_labels=ticks(values.values())))
    labels = list(values)
    if horizontal:
        # pygal draws horizontal bars bottom-up; reverse so the largest is on top.
        labels.reverse()
    chart.x_labels = labels
    chart.add(title, [values[label] for label in labels], formatter=formatter)
    return Chart(chart_id, title, _render(chart))


def _sum_by(jobs: Sequence[Row], group: Callable[[Row], str]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for job in jobs:
        name = group(job)
        totals[name] = totals.get(name, 0.0) + (job.get("monthly_projection_usd") or 0)
    return totals


def _top_groups(totals: Mapping[str, float]) -> dict[str, float]:
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    top = dict(ranked[:TOP_GROUPS])
    rest = sum(amount for _, amount in ranked[TOP_GROUPS:])
    if rest:
        top[f"{len(ranked) - TOP_GROUPS} others"] = rest
    return {name: round(amount, 2) for name, amount in top.items()}


def inactivity_buckets(jobs: Sequence[Row]) -> dict[str, int]:
    counts = {label: 0 for *_, label in INACTIVITY_BUCKETS} | {"never run": 0}
    for job in jobs:
        if job.get("status") == "deleted":
            continue
        days = job.get("days_since_last_run")
        if days is None:
            counts["never run"] += 1
            continue
        for low, high, label in INACTIVITY_BUCKETS:
            if days >= low and (high is None or days <= high):
                counts[label] += 1
                break
    return counts


def failure_buckets(jobs: Sequence[Row]) -> dict[str, int]:
    """Jobs with finished runs in the window, by failure rate; the first bucket is exactly 0."""
    counts = {label: 0 for *_, label in FAILURE_BUCKETS}
    for job in jobs:
        if not job.get("finished_runs_30d"):
            continue
        rate = job.get("failure_rate_30d") or 0.0
        for low, high, label in FAILURE_BUCKETS:
            if (rate == 0 and high == 0) or (low < rate <= high):
                counts[label] += 1
                break
    return counts


def _trend(points: Sequence[Row]) -> list[Chart]:
    dates = [(p["generated_at"] or "")[:10] for p in points]
    spend = [p["monthly_projection_usd"] or 0 for p in points]
    line = pygal.Line(**_config(value_formatter=short_usd, x_label_rotation=20, y_labels=ticks(spend), dots_size=4))
    line.x_labels = dates
    line.add("Monthly projection", spend, formatter=usd)
    statuses = ordered_keys(STATUS_ORDER, {s for p in points for s in p["jobs_by_status"]})
    colors = [STATUS_COLORS.get(status, "#64748b") for status in statuses]
    stacked = pygal.StackedBar(
        **_config(
            show_legend=True,
            legend_at_bottom=True,
            x_label_rotation=20,
            style=_style(colors),
            value_formatter=lambda n: f"{n:.0f}",
        )
    )
    stacked.x_labels = dates
    for status in statuses:
        stacked.add(status, [p["jobs_by_status"].get(status, 0) for p in points])
    savings = pygal.Line(**_config(value_formatter=short_usd, x_label_rotation=20, show_legend=True,
                                   legend_at_bottom=True, dots_size=4, style=_style(("#2563eb", "#10b981"))))
    savings.x_labels = dates
    for name, field in (("Identified", "savings_identified_usd"), ("Realized (last 90 days)", "savings_realized_usd")):
        savings.add(name, [p.get(field) for p in points], formatter=usd)
    return [
        Chart("trend-spend", "Monthly projection per inventory", _render(line)),
        Chart("trend-jobs", "Jobs by status per inventory", _render(stacked)),
        Chart("trend-savings", "Monthly savings identified and realized per inventory", _render(savings)),
    ]


def _job_label(job: Row, shown: Sequence[Row]) -> str:
    """The name alone unless another job shown has the same name (other account or region)."""
    twins = sum(1 for other in shown if other["name"] == job["name"])
    return job["name"] if twins == 1 else f"{job['name']} ({job['account_id']} {job['region']})"


def dashboard_charts(jobs: Sequence[Row], numbers: Mapping[str, Any]) -> list[Chart]:
    """The dashboard's charts from the job rows and the executive numbers."""
    by_status = numbers["spend"]["by_status"]
    versions = _sum_by(jobs, lambda j: (j.get("glue_version") or "unset") + (" (EOL)" if j.get("eol_version") else ""))
    costly = [job for job in jobs if (job.get("monthly_projection_usd") or 0) > 0]
    top_jobs = sorted(costly, key=lambda j: (-(j.get("monthly_projection_usd") or 0), j["key"]))[:TOP_JOBS]

    def count(value: float) -> str:
        return f"{value:.0f} jobs"

    savings = numbers["savings"]["by_reason"]
    return [
        _bars("status", "Monthly spend by status", {s: by_status[s] for s in ordered_keys(STATUS_ORDER, by_status)}),
        _bars(
            "team",
            "Monthly spend by team (team tag)",
            _top_groups(_sum_by(jobs, lambda j: j.get("team") or "(no team tag)")),
            horizontal=True,
        ),
        _bars(
            "cost-center",
            "Monthly spend by cost center (cost-center tag)",
            _top_groups(_sum_by(jobs, lambda j: j.get("cost_center") or "(no cost-center tag)")),
            horizontal=True,
        ),
        _bars(
            "owner",
            "Monthly spend by owner (owner tag)",
            _top_groups(_sum_by(jobs, lambda j: j.get("owner") or "(no owner tag)")),
            horizontal=True,
        ),
        _bars("version", "Monthly spend by Glue version", dict(sorted(versions.items()))),
        _bars(
            "top-jobs",
            f"Top {TOP_JOBS} jobs by monthly cost",
            {_job_label(j, top_jobs): round(j.get("monthly_projection_usd") or 0, 2) for j in top_jobs},
            horizontal=True,
            height=640,
        ),
        _bars(
            "savings",
            "Estimated monthly savings by reason",
            {r: savings[r] for r in ordered_keys(REASON_ORDER, savings)},
        ),
        _bars("failures", "Jobs by failure rate (last 30 days)", failure_buckets(jobs), formatter=count),
        _bars("inactivity", "Live jobs by days since last run", inactivity_buckets(jobs), formatter=count),
        *_trend(numbers["trend"]),
    ]
