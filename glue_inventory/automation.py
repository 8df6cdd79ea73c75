"""Which jobs get a deep analysis, and the sensor that requests it after each candidate list.

A job is chosen when it is among the top K candidates by score, or tagged
`glue-inventory:deep-analysis=true` in Glue, and never when tagged `=false`. After each candidate
list only the chosen jobs that are new or whose inputs changed since their last deep analysis are
requested: a deep analysis costs CloudWatch calls, pylint and bandit time and LLM tokens per job.
"""

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import dagster as dg
import sqlalchemy as sa

from glue_inventory.analysis.tags import tag_value
from glue_inventory.config import ConfigError
from glue_inventory.partitions import glue_jobs_partitions
from glue_inventory.resources import GlueInventoryConfig, InventoryDatabase
from glue_inventory.sensors import RANGE_END, RANGE_START, partitions_in_progress
from glue_inventory.storage.tables import analysis_runs, data_jobs, deep_analysis_candidates, job_artifacts, job_runs

AUTOMATION_INTERVAL_S = int(os.environ.get("GLUE_INVENTORY_AUTOMATION_INTERVAL_S", "30"))
_SWITCH = os.environ.get("GLUE_INVENTORY_AUTOMATION", "on").strip().lower()
if _SWITCH not in {"on", "off"}:
    raise ConfigError(f"GLUE_INVENTORY_AUTOMATION={_SWITCH!r}: expected on or off")
# Sensors and schedules start running with the code location, unless GLUE_INVENTORY_AUTOMATION=off
# (e.g. a webserver browsing the demo's data, which must not refresh it); the UI can still start them.
SENSOR_STATUS = dg.DefaultSensorStatus.RUNNING if _SWITCH == "on" else dg.DefaultSensorStatus.STOPPED
SCHEDULE_STATUS = dg.DefaultScheduleStatus.RUNNING if _SWITCH == "on" else dg.DefaultScheduleStatus.STOPPED
# dagster.yaml caps concurrent runs by this tag (deep_analysis: 2 at a time).
STAGE_TAG = "glue-inventory/stage"
TRIGGER_TAG = "glue-inventory/trigger"
OPT_TAG = "glue-inventory:deep-analysis"
CANDIDATES = dg.AssetKey("deep_analysis_candidates")
DEEP_ASSET_KEYS = [dg.AssetKey(name) for name in
                   ("job_cloudwatch_metrics", "job_script", "job_code_analysis", "job_ai_review", "job_deep_analysis")]
# Deep analysis is expensive per job: 50 jobs a run keeps one run's failure small.
DEEP_BATCH = 50


# The columns of a job's definition a deep analysis depends on (tags only choose whether it runs).
CONFIG_COLUMNS = ("job_type", "worker_type", "number_of_workers", "max_capacity", "glue_version", "execution_class",
                  "script_location", "default_argument_names")


@dataclass(frozen=True)
class DeepInputs:
    """What a job's deep analysis depends on, and what its latest deep analysis saw."""

    key: str
    data_job_id: int
    score: float | None  # None: not a current candidate
    opt_in: bool | None  # the glue-inventory:deep-analysis tag; None when absent or neither true nor false
    config: str = ""  # fingerprint of CONFIG_COLUMNS
    runs_stored_at: datetime | None = None  # when a new or changed run of the job was last stored
    script_sha: str | None = None  # sha256 of the script as job_script last read it
    analysed_at: datetime | None = None
    analysed_sha: str | None = None  # the script sha the latest deep analysis read


def opt_in(tags: dict | None) -> bool | None:
    return {"true": True, "false": False}.get(tag_value(tags or {}, OPT_TAG).lower())


def config_fingerprint(values: Iterable) -> str:
    return hashlib.sha256(json.dumps(list(values), default=str).encode()).hexdigest()[:16]


def chosen(jobs: Iterable[DeepInputs], top_k: int) -> list[DeepInputs]:
    """The top `top_k` candidates by score (ties by key) not opted out, then every opted-in job."""
    eligible = [job for job in jobs if job.opt_in is not False]
    ranked = sorted((job for job in eligible if job.score is not None), key=lambda job: (-job.score, job.key))
    top = ranked[:max(0, top_k)]
    picked = {job.key for job in top}
    return top + sorted((job for job in eligible if job.opt_in and job.key not in picked), key=lambda job: job.key)


def change_reason(job: DeepInputs, previous: Mapping[str, str] | None) -> str | None:
    """Why the job needs a deep analysis now, or None. `previous` maps the jobs chosen at the last
    evaluation to their configuration then (None before the first evaluation).

    The inventory does not keep Glue's LastModifiedOn (`data_jobs.last_modified_on` stays empty), so a
    configuration change is seen by comparing fingerprints between evaluations.
    """
    if job.analysed_at is None:
        return "never analysed"
    if previous is not None and job.key not in previous:
        return "new candidate"
    if job.script_sha and job.script_sha != job.analysed_sha:
        return "script changed"
    if job.runs_stored_at and job.runs_stored_at > job.analysed_at:
        return "new runs"
    if previous is not None and previous[job.key] != job.config:
        return "configuration changed"
    return None


def _chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    return (ids[start:start + size] for start in range(0, len(ids), size))


def _with_history(conn: sa.Connection, jobs: list[DeepInputs]) -> list[DeepInputs]:
    """`jobs` with their latest stored run, script sha and deep analysis; only JSON fields are read,
    never the stored script text."""
    stored, scripts, deep = {}, {}, {}
    newest = (sa.select(sa.func.max(analysis_runs.c.id)).where(analysis_runs.c.analysis_type == "deep")
              .group_by(analysis_runs.c.data_job_id))
    for chunk in _chunks([job.data_job_id for job in jobs]):
        stored.update(conn.execute(sa.select(job_runs.c.data_job_id, sa.func.max(job_runs.c.fetched_at))
                                   .where(job_runs.c.data_job_id.in_(chunk)).group_by(job_runs.c.data_job_id)).all())
        scripts.update(conn.execute(
            sa.select(job_artifacts.c.data_job_id, job_artifacts.c.content["sha256"].as_string())
            .where(job_artifacts.c.asset == "job_script", job_artifacts.c.data_job_id.in_(chunk))).all())
        deep.update((row[0], row[1:]) for row in conn.execute(
            sa.select(analysis_runs.c.data_job_id, analysis_runs.c.completed_at,
                      analysis_runs.c.metrics[("script", "sha256")].as_string())
            .where(analysis_runs.c.id.in_(newest.where(analysis_runs.c.data_job_id.in_(chunk))))))
    return [replace(job, runs_stored_at=stored.get(job.data_job_id), script_sha=scripts.get(job.data_job_id),
                    analysed_at=deep.get(job.data_job_id, (None, None))[0],
                    analysed_sha=deep.get(job.data_job_id, (None, None))[1]) for job in jobs]


def load_chosen(conn: sa.Connection, top_k: int) -> list[DeepInputs]:
    """The jobs chosen for deep analysis (`chosen`), with what their next analysis would depend on."""
    scores = dict(conn.execute(sa.select(deep_analysis_candidates.c.data_job_id, deep_analysis_candidates.c.score)
                               .where(deep_analysis_candidates.c.is_current)).all())
    live = conn.execute(sa.select(data_jobs.c.id, data_jobs.c.partition_key, data_jobs.c.tags,
                                  *(data_jobs.c[name] for name in CONFIG_COLUMNS))
                        .where(sa.or_(data_jobs.c.status.is_(None), data_jobs.c.status != "deleted"))).all()
    jobs = [DeepInputs(key=row[1], data_job_id=row[0], score=scores.get(row[0]), opt_in=opt_in(row[2]),
                       config=config_fingerprint(row[3:])) for row in live]
    return _with_history(conn, chosen(jobs, top_k))


def exact_ranges(ordered_keys: list[str], wanted: set[str], batch: int) -> list[tuple[str, str]]:
    """Ranges of consecutive wanted keys, at most `batch` long, that never include a key not wanted."""
    ranges: list[tuple[str, str]] = []
    current: list[str] = []
    for key in ordered_keys:
        if key in wanted and len(current) < batch:
            current.append(key)
            continue
        if current:
            ranges.append((current[0], current[-1]))
        current = [key] if key in wanted else []
    if current:
        ranges.append((current[0], current[-1]))
    return ranges


def range_run(asset_keys: list[dg.AssetKey], start: str, end: str, run_key: str,
              tags: dict[str, str]) -> dg.RunRequest:
    """One run over the partition range start..end; the run key makes a repeated request a no-op."""
    digest = hashlib.sha256(f"{start}\0{end}".encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"{run_key}-{digest}", asset_selection=asset_keys,
                         tags={**tags, RANGE_START: start, RANGE_END: end})


def deep_requests(instance: dg.DagsterInstance, plan: dict[str, str], run_key: str,
                  trigger: str) -> list[dg.RunRequest]:
    """Runs of the five deep-analysis assets over the planned jobs, one per range of consecutive keys.

    Dagster 1.13 also offers `RunRequest.for_asset_graph_subset` (a backfill of any partition set), but
    its AssetGraphSubset is private API, a backfill has no run key to deduplicate a repeated tick, and
    it sizes runs by the assets' backfill policy (single-run today: one run per contiguous range of
    any length). Explicit ranges give the same number of runs, bounded by DEEP_BATCH, with public API.
    """
    ordered = instance.get_dynamic_partitions(glue_jobs_partitions.name)
    wanted = set(plan) - partitions_in_progress(instance, DEEP_ASSET_KEYS[-1], ordered)
    tags = {STAGE_TAG: "deep_analysis", TRIGGER_TAG: trigger}
    return [range_run(DEEP_ASSET_KEYS, start, end, run_key, tags)
            for start, end in exact_ranges(ordered, wanted, DEEP_BATCH)]


def latest_materialization(instance: dg.DagsterInstance, key: dg.AssetKey) -> dg.EventLogRecord | None:
    """The newest materialization of `key`; its storage id orders it against a sensor's cursor."""
    records = instance.fetch_materializations(key, limit=1).records
    return records[0] if records else None


def read_cursor(raw: str | None) -> tuple[int, dict[str, str] | None]:
    """(storage id of the last candidate list handled, configuration of each job chosen then)."""
    if not raw:
        return 0, None
    state = json.loads(raw)
    return state["seen"], state["configs"]


def deep_analysis_plan(conn: sa.Connection, top_k: int, previous: Mapping[str, str] | None
                       ) -> tuple[dict[str, str], dict[str, str]]:
    """(partition key → reason for each chosen job that needs a deep analysis, configuration of every
    chosen job for the next comparison)."""
    jobs = load_chosen(conn, top_k)
    plan = {job.key: reason for job in jobs if (reason := change_reason(job, previous))}
    return plan, {job.key: job.config for job in jobs}


@dg.sensor(minimum_interval_seconds=AUTOMATION_INTERVAL_S, default_status=SENSOR_STATUS,
           asset_selection=DEEP_ASSET_KEYS)
def deep_analysis_candidate_sensor(context: dg.SensorEvaluationContext, config: GlueInventoryConfig,
                                   inventory_db: InventoryDatabase):
    """After each new candidate list, requests deep analysis of the chosen jobs that are new or changed.

    A hand-written sensor, not an AutomationCondition: "top K by score", the Glue opt-in tag and "the
    script's sha changed" live in the inventory tables, which declarative conditions cannot read.
    """
    latest = latest_materialization(context.instance, CANDIDATES)
    if latest is None:
        return dg.SkipReason("deep_analysis_candidates has not been materialized yet")
    seen, previous = read_cursor(context.cursor)
    if seen >= latest.storage_id:
        return dg.SkipReason("no new candidate list since the last evaluation")
    with inventory_db.engine().connect() as conn:
        plan, configs = deep_analysis_plan(conn, config.settings.deep_analysis.top_k, previous)
    requests = deep_requests(context.instance, plan, f"candidates-{latest.storage_id}", "candidates")
    context.log.info(f"{len(configs)} jobs chosen; deep analysis of {len(plan)} in {len(requests)} runs: "
                     + ", ".join(f"{key} ({reason})" for key, reason in sorted(plan.items())[:20]))
    return dg.SensorResult(run_requests=requests,
                           cursor=json.dumps({"seen": latest.storage_id, "configs": configs}))
