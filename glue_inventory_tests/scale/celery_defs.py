"""`glue_inventory.definitions.defs` with dagster-celery's executor: every step of a run becomes a Celery task.

The Celery workers and the process that launches the run both import this module, so it holds nothing
but the real definitions and the executor. The broker, result backend and queue come from the run
config's `execution.config` block, the same YAML the workers get with `dagster-celery worker start -y`.
"""

from dagster_celery import celery_executor

from glue_inventory.definitions import build_definitions

# The code location with another executor (Definitions.merge refuses two executors).
defs = build_definitions(executor=celery_executor)
