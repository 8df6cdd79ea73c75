"""What the Dagster UI shows of the results: the tables and numbers attached to materializations."""

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from glue_inventory.analysis.cost.savings import BASES
from glue_inventory.reports.formatting import SEVERITY_ORDER, rank

FINDINGS = dg.TableSchema(columns=[
    dg.TableColumn("severity", "string"), dg.TableColumn("rule_id", "string"), dg.TableColumn("line", "int"),
    dg.TableColumn("message", "string"), dg.TableColumn("source", "string")])
RECOMMENDATIONS = dg.TableSchema(columns=[
    dg.TableColumn("title", "string"), dg.TableColumn("severity", "string"), dg.TableColumn("category", "string"),
    dg.TableColumn("saving_usd_month", "float"), dg.TableColumn("savings_basis", "string"),
    dg.TableColumn("source", "string")])
CANDIDATES = dg.TableSchema(columns=[
    dg.TableColumn("job", "string"), dg.TableColumn("reasons", "string"), dg.TableColumn("priority", "string"),
    dg.TableColumn("score", "float"), dg.TableColumn("identified_usd_month", "float"),
    dg.TableColumn("potential_usd_month", "float"), dg.TableColumn("deep_lane", "string"),
    dg.TableColumn("owner", "string"), dg.TableColumn("team", "string")])
# Rows of a table shown in the UI; the reports hold the rest.
MAX_ROWS = 200


def _money(value: Any) -> float:
    return round(float(value or 0.0), 2)


def partition_metadata(verdict: Mapping[str, Any], report_md: str, code: Mapping[str, Any],
                       report_link: dg.MetadataValue) -> dict[str, Any]:
    """One deep-analysed job's materialization: its report, its findings and recommendations as tables, its
    savings as numbers, and where the report file is."""
    findings = sorted(code.get("findings") or [], key=lambda f: (rank(SEVERITY_ORDER, f.get("severity")),
                                                                  f.get("line") or 0))
    recs = verdict.get("recommendations") or []
    return {
        "report": dg.MetadataValue.md(report_md),
        "findings": dg.MetadataValue.table([dg.TableRecord({
            "severity": f.get("severity") or "info", "rule_id": f.get("rule_id") or "", "line": f.get("line"),
            "message": f.get("message") or "", "source": f.get("source") or ""}) for f in findings[:MAX_ROWS]],
            schema=FINDINGS),
        "recommendations": dg.MetadataValue.table([dg.TableRecord({
            "title": r.get("title") or "", "severity": r.get("severity") or "", "category": r.get("category") or "",
            "saving_usd_month": _money(r.get("est_monthly_savings_usd")), "savings_basis": r.get("savings_basis") or "",
            "source": r.get("source") or ""}) for r in recs[:MAX_ROWS]], schema=RECOMMENDATIONS),
        "findings_count": len(findings),
        **({"priority": verdict["priority"]} if verdict.get("priority") else {}),
        "chosen_by": verdict.get("chosen_by") or "",
        **({"deep_lane": verdict["deep_lane"]} if verdict.get("deep_lane") else {}),
        **({"deep_rank": verdict["deep_rank"]} if verdict.get("deep_rank") else {}),
        # Savings identified (measured + exact) apart from the rule of thumb, never added to it.
        "savings_identified_usd": _money(verdict.get("savings_identified_usd")),
        **{f"savings_{basis}_usd": _money((verdict.get("savings_by_basis") or {}).get(basis)) for basis in BASES},
        "report_file": report_link,
    }


def candidates_table(rows: Sequence[Mapping[str, Any]]) -> dg.TableMetadataValue:
    """The top candidates, best first, as a table."""
    return dg.MetadataValue.table([dg.TableRecord({
        "job": row["key"], "reasons": ", ".join(row["reasons"]), "priority": row["priority"],
        "score": round(float(row["score"]), 2), "identified_usd_month": _money(row["savings_identified_usd"]),
        "potential_usd_month": _money(row["savings_potential_usd"]),
        "deep_lane": f"{row['deep_lane']} #{row['deep_rank']}" if row.get("deep_lane") else "",
        "owner": row.get("owner") or "no owner tag", "team": row.get("team") or "no team tag"})
        for row in rows[:MAX_ROWS]], schema=CANDIDATES)
