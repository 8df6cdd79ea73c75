"""The pipeline's order, read from the asset graph: the one statement of it that the sensors and
`pipeline.run_pipeline` (`glue-inventory refresh`) both follow.

The assets are taken in dependency order, a level at a time (a level: the assets whose inputs are all in
earlier levels). Consecutive levels of unpartitioned assets make one stage (one run); so do consecutive levels
of assets partitioned by job (one run per range of jobs). A level holding both kinds is split into its
partitioned stage, then each unpartitioned asset on its own (today: the bill beside the preliminary metrics,
which must not stop the candidates when it fails). With today's graph:

    glue_jobs → job_preliminary_metrics | glue_billed_costs → deep_analysis_candidates
      → job_script, job_cloudwatch_metrics, job_code_analysis, job_ai_review, job_deep_analysis
      → remediation_plans, executive_report
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from graphlib import TopologicalSorter

import dagster as dg

from glue_inventory.orchestration.assets import ASSETS, CANDIDATES, DEEP_ASSET_KEYS

# The one input the graph cannot hold: the candidate list chooses the jobs the deep analysis analyses (an edge
# of the graph), and scores their evidence, read from `analysis_runs`, in the run after it (this entry). The
# list alone writes priorities; the deep analysis only records evidence.
EVIDENCE_INPUTS = {CANDIDATES: DEEP_ASSET_KEYS[-1]}


@dataclass(frozen=True)
class Stage:
    """Assets materialized together: one run (unpartitioned), or one run per range of job partitions."""

    keys: tuple[dg.AssetKey, ...]
    partitioned: bool
    # The assets outside the stage that it reads: it runs after them.
    inputs: frozenset[dg.AssetKey]
    # Whether any of `inputs` is partitioned.
    reads_partitions: bool
    # Evidence the stage scores again once it is recorded (EVIDENCE_INPUTS): it runs after it too.
    rescores_after: dg.AssetKey | None = None

    @property
    def chosen_jobs_only(self) -> bool:
        """A partitioned stage after the candidate list analyses the jobs the list chose, not every job."""
        return CANDIDATES in self.inputs and self.partitioned

    @property
    def follows_partitions(self) -> bool:
        """An unpartitioned stage reading partitioned assets: it waits until none of their runs is left."""
        return not self.partitioned and self.reads_partitions

    def names(self) -> str:
        return ", ".join(key.to_user_string() for key in self.keys)


def _graph(assets: Sequence[dg.AssetsDefinition]) -> dict[dg.AssetKey, tuple[set[dg.AssetKey], bool]]:
    """Each asset's inputs (within `assets`) and whether it is partitioned."""
    specs = [spec for asset in assets for spec in asset.specs]
    keys = {spec.key for spec in specs}
    return {spec.key: ({dep.asset_key for dep in spec.deps} & keys, spec.partitions_def is not None)
            for spec in specs}


def _levels(graph: dict[dg.AssetKey, tuple[set[dg.AssetKey], bool]]) -> list[list[dg.AssetKey]]:
    sorter = TopologicalSorter({key: inputs for key, (inputs, _) in graph.items()})
    sorter.prepare()
    levels = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda key: key.to_user_string())
        levels.append(ready)
        sorter.done(*ready)
    return levels


def pipeline_stages(assets: Sequence[dg.AssetsDefinition]) -> list[Stage]:
    """The stages of `assets` in the order they run (see the module's docstring)."""
    graph = _graph(assets)
    groups: list[tuple[list[dg.AssetKey], bool]] = []
    previous_pure: bool | None = None  # the kind of the previous level when it held one kind only
    for level in _levels(graph):
        kinds = {graph[key][1] for key in level}
        if len(kinds) == 1:
            partitioned = kinds.pop()
            if previous_pure is partitioned:
                groups[-1][0].extend(level)
            else:
                groups.append((list(level), partitioned))
            previous_pure = partitioned
            continue
        groups.append(([key for key in level if graph[key][1]], True))
        groups.extend(([key], False) for key in level if not graph[key][1])
        previous_pure = None
    stages = []
    for keys, partitioned in groups:
        inputs = {dep for key in keys for dep in graph[key][0]} - set(keys)
        evidence = next((EVIDENCE_INPUTS[key] for key in keys if key in EVIDENCE_INPUTS), None)
        stages.append(Stage(tuple(keys), partitioned, frozenset(inputs), any(graph[key][1] for key in inputs),
                            evidence))
    return stages


@cache
def stages() -> tuple[Stage, ...]:
    """The stages of the code location's assets."""
    return tuple(pipeline_stages(ASSETS))
