"""`apply_remediation`: the opt-in job that carries out approved remediation plans. Never scheduled, never
triggered by a sensor: someone launches it, and it is a dry run unless its config says `dry_run: false`."""

from dataclasses import asdict
from datetime import UTC, datetime

import dagster as dg
from pydantic import Field

from glue_inventory.orchestration.automation.runs import STAGE_TAG
from glue_inventory.orchestration.resources import AwsPlatforms, InventoryDatabase, ReportsLocation
from glue_inventory.services.actions.apply import apply_approved
from glue_inventory.storage.actions.remediation import ApplyInProgress

OUTCOMES = dg.TableSchema(columns=[
    dg.TableColumn("job", "string"), dg.TableColumn("plan", "string"), dg.TableColumn("status", "string"),
    dg.TableColumn("detail", "string"), dg.TableColumn("changes", "string"), dg.TableColumn("approver", "string"),
    dg.TableColumn("approval_event", "string"), dg.TableColumn("approval_time", "string"),
    dg.TableColumn("plan_fingerprint", "string")])
STATUSES = ("applied", "would_apply", "already_applied", "refused", "failed")


class ApplyRemediationConfig(dg.Config):
    dry_run: bool = Field(default=True, description="Only log what each approved plan would change (default). "
                                                    "Set false to change the jobs.")


@dg.op(pool="aws_api")
def apply_approved_plans(context: dg.OpExecutionContext, config: ApplyRemediationConfig, aws: AwsPlatforms,
                         inventory_db: InventoryDatabase, reports: ReportsLocation) -> dg.Output[list[dict]]:
    """Applies the current remediation plans approved by an approver with the tag glue-inventory:approve=<plan id>."""
    try:
        outcomes = apply_approved(inventory_db.engine(), aws.remediation_session_map(), reports.write,
                                  dry_run=config.dry_run, run_id=context.run_id, now=datetime.now(UTC),
                                  log=context.log.info, approvers=aws.config.settings.remediation.approvers)
    except ApplyInProgress as exc:
        raise dg.Failure(description=str(exc)) from None
    for outcome in outcomes:
        if outcome.status in ("refused", "failed"):
            context.log.warning(f"{outcome.key}: {outcome.status}: {outcome.detail}")
    statuses = [outcome.status for outcome in outcomes]
    return dg.Output([asdict(outcome) for outcome in outcomes], metadata={
        "dry_run": config.dry_run,
        **{status: statuses.count(status) for status in STATUSES},
        "outcomes": dg.MetadataValue.table(
            [dg.TableRecord({"job": o.key, "plan": o.plan_id or "", "status": o.status, "detail": o.detail,
                             "changes": "; ".join(o.changes), "approver": o.approver_arn or "",
                             "approval_event": o.approval_event_id or "", "approval_time": o.approval_event_time or "",
                             "plan_fingerprint": o.plan_fingerprint or ""}) for o in outcomes], schema=OUTCOMES),
    })


@dg.job(tags={STAGE_TAG: "remediation"},
        description="Applies approved remediation plans (tag glue-inventory:approve=<plan id>, set by one of "
                    "remediation.approvers as CloudTrail shows); a dry run unless dry_run is false. One run at a "
                    "time. Needs the permissions of iam/glue-inventory-remediate.json.")
def apply_remediation():
    apply_approved_plans()
