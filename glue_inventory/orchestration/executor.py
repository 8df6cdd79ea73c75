"""The code location's executor: Dagster's default, except that a run of one asset runs in its own process.

Dagster's default executor starts a process for every step, which imports Dagster and glue_inventory again
(about 1.5 s) and holds a second copy of them in memory (about 200 MB). Most runs of the inventory
materialize one asset (`glue_jobs`, a batch of `job_preliminary_metrics`, `deep_analysis_candidates`) and
check it with a query or two: step processes buy them nothing. So the default, `auto`, runs a run of one
asset (and its checks) in the run's process, and a run of several (the deep analysis) as the multiprocess
executor does, with its settings. `multiprocess` and `in_process` choose Dagster's executors as they are.

    execution:
      config:
        auto:                # the default; the multiprocess executor's settings
          max_concurrent: 2
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import dagster as dg

AUTO = "auto"
# What the in-process executor takes of the multiprocess executor's settings.
IN_PROCESS_SETTINGS = ("retries", "step_dependency_config")


def asset_steps(execution_plan) -> int:
    """How many of the plan's steps to execute materialize an asset (the rest check one: a query each)."""
    return sum(1 for step in execution_plan.get_steps_to_execute_in_topo_order()
               if any(output.properties and output.properties.asset_key for output in step.step_outputs))


class OneAssetInProcess(dg.Executor):
    """`several` for a plan that materializes more than one asset, `alone` (in the run's process) for a plan
    of one asset and its checks."""

    def __init__(self, several: dg.Executor, alone: dg.Executor) -> None:
        self.several = several
        self.alone = alone

    def execute(self, plan_context, execution_plan) -> Iterator[dg.DagsterEvent]:
        chosen = self.alone if asset_steps(execution_plan) <= 1 else self.several
        yield from chosen.execute(plan_context, execution_plan)

    @property
    def retries(self):
        return self.several.retries

    @property
    def step_dependency_config(self):
        return self.several.step_dependency_config


def _requirements(config: Mapping[str, object]):
    return [] if "in_process" in config else dg.multiple_process_executor_requirements()


@dg.executor(
    name="glue_inventory",
    config_schema=dg.Field(
        dg.Selector({
            AUTO: dg.multiprocess_executor.config_schema.as_field(),
            "multiprocess": dg.multiprocess_executor.config_schema.as_field(),
            "in_process": dg.in_process_executor.config_schema.as_field(),
        }),
        default_value={AUTO: {}},
    ),
    requirements=_requirements,
)
def glue_inventory_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """`auto` (the default): one asset and its checks in the run's process, several assets each in a process
    of its own, as the multiprocess executor runs them; `multiprocess` or `in_process`: Dagster's executor
    of that name."""
    (mode, settings), = init_context.executor_config.items()
    make = dg.multi_or_in_process_executor.executor_creation_fn
    assert make is not None  # noqa: S101 - Dagster's own executor always has one
    if mode != AUTO:
        return make(init_context._replace(executor_config={mode: settings}))
    several = make(init_context._replace(executor_config={"multiprocess": settings}))
    in_process = {key: value for key, value in settings.items() if key in IN_PROCESS_SETTINGS}
    alone = make(init_context._replace(executor_config={"in_process": in_process}))
    return OneAssetInProcess(several, alone)
