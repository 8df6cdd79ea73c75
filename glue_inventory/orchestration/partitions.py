"""Dynamic partitions: one per Glue job, keyed `<account_id>/<region>/<job_name>` (glue_inventory.keys)."""

import dagster as dg

glue_jobs_partitions = dg.DynamicPartitionsDefinition(name="glue_jobs")
