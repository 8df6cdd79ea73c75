"""`glue_inventory.definitions.defs` with dagster-celery's executor: every step of a run becomes a Celery task.

The Celery workers and the process that launches the run both import this module, so it holds nothing
but the real definitions and the executor. The broker, result backend and queue come from the run
config's `execution.config` block, the same YAML the workers get with `dagster-celery worker start -y`.
"""

import dagster as dg
from dagster_celery import celery_executor

from glue_inventory import definitions

# Only one Definitions object may live at module scope (Dagster's loader refuses two).
defs = dg.Definitions.merge(definitions.defs, dg.Definitions(executor=celery_executor))
