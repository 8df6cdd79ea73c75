"""Dynamic partitions: one per Glue job, keyed `<account_id>/<region>/<job_name>` (glue_inventory.keys)."""

import warnings

import dagster as dg

glue_jobs_partitions = dg.DynamicPartitionsDefinition(name="glue_jobs")

# One run handles any range of job partitions (the CLI's --partition-range needs it; the sensors and the schedule
# batch their requests themselves). `backfill_policy` is beta in the Dagster release this package pins: its
# warning would open the output of every command that loads the code location (one-line errors, the demo's
# stages), so it is silenced for this parameter alone.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy` of function `asset` is currently in beta",
                        category=dg.BetaWarning)
ONE_RUN = dg.BackfillPolicy.single_run()
