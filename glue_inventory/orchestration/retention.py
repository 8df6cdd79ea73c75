"""`retention_job`: what keeps the stores from growing for ever, run daily by `retention_schedule`.

Dagster's event log gets one event per partition of every run, and Dagster OSS has no retention for runs
(only for schedule and sensor ticks, set in dagster.yaml): this job deletes finished runs older than
`retention.dagster_runs_days` with their event logs, and the analyses of each job beyond
`retention.analyses_per_job`. `job_runs` is never pruned: it is the history Glue itself drops.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from glue_inventory.orchestration.resources import GlueInventoryConfig, InventoryDatabase
from glue_inventory.storage.analyses import prune_analyses

FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
# Runs read and deleted per round: each deletion is one transaction over the run and its events.
RUNS_PER_ROUND = 500


def delete_runs_before(instance: dg.DagsterInstance, cutoff: datetime, keep: str | None = None) -> int:
    """Delete finished runs created before `cutoff` (all but `keep`, the run doing it), events included."""
    deleted = 0
    while True:
        records = instance.get_run_records(filters=dg.RunsFilter(statuses=FINISHED, created_before=cutoff),
                                           limit=RUNS_PER_ROUND)
        run_ids = [record.dagster_run.run_id for record in records if record.dagster_run.run_id != keep]
        for run_id in run_ids:
            instance.delete_run(run_id)
        deleted += len(run_ids)
        if len(records) < RUNS_PER_ROUND:
            return deleted


@dg.op
def prune_history(context: dg.OpExecutionContext, config: GlueInventoryConfig,
                  inventory_db: InventoryDatabase) -> dg.Output[dict]:
    """Deletes Dagster runs older than retention.dagster_runs_days and analyses beyond retention.analyses_per_job."""
    retention = config.settings.retention
    cutoff = datetime.now(UTC) - timedelta(days=retention.dagster_runs_days)
    runs = delete_runs_before(context.instance, cutoff, keep=context.run_id)
    analyses = prune_analyses(inventory_db.engine(), retention.analyses_per_job)
    context.log.info(f"deleted {runs} Dagster runs created before {cutoff:%Y-%m-%d %H:%M} UTC and {analyses} "
                     f"analyses beyond the newest {retention.analyses_per_job} of each job")
    pruned = {"dagster_runs_deleted": runs, "analyses_deleted": analyses}
    return dg.Output(pruned, metadata={**pruned, "dagster_runs_days": retention.dagster_runs_days,
                                       "analyses_per_job": retention.analyses_per_job})


@dg.job(description="Deletes Dagster runs older than retention.dagster_runs_days (with their event logs) and "
                    "each job's analyses beyond retention.analyses_per_job; job_runs is kept.")
def retention_job():
    prune_history()
