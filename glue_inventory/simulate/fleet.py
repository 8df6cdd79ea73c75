"""`build_fleet`: a deterministic fake company's Glue estate, as plain data (no moto involved)."""

from __future__ import annotations

import random
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from glue_inventory.analysis.types import SPARK_JOB_TYPES
from glue_inventory.simulate.catalog import (
    ACTIONS,
    COST_CENTERS,
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    DOMAINS,
    OWNERS,
    SUFFIXES,
    WORKER_DPU,
)
from glue_inventory.simulate.history import AGE_RANGES_DAYS, build_runs
from glue_inventory.simulate.profiles import ARCHETYPES, Profile, normalize, random_profile
from glue_inventory.simulate.runs import RunConfig, SimJobRun
from glue_inventory.simulate.scripts import Script, render_script


class MemberAccounts(Protocol):
    """What a fleet needs of its Organization (simulate.organization.SimOrganization): the member accounts."""

    @property
    def member_account_ids(self) -> list[str]: ...


@dataclass
class SimJob:
    """One Glue job with its definition, full run history and what was planted in it."""

    account_id: str
    region: str
    name: str
    profile: Profile
    created_on: datetime
    command: dict[str, str]
    default_arguments: dict[str, str]
    tags: dict[str, str]
    config: RunConfig
    max_retries: int
    script: Script
    secrets: frozenset[str]
    runs: list[SimJobRun] = field(default_factory=list)
    expired_runs: list[SimJobRun] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}/{self.name}"

    @property
    def script_location(self) -> str:
        return self.command["ScriptLocation"]

    @property
    def bucket(self) -> str:
        return script_bucket(self.account_id, self.region)


@dataclass
class Fleet:
    seed: int
    now: datetime
    account_id: str
    jobs: list[SimJob]
    deleted: dict[str, SimJob] = field(default_factory=dict)
    # Glue lists a job's runs newest first, moto oldest first; False serves moto's order to prove
    # that consumers do not depend on it.
    runs_newest_first: bool = True
    # With an Organization, `account_id` is its management account and the jobs are in member accounts.
    organization: MemberAccounts | None = None

    def job(self, name: str, region: str = DEFAULT_REGION) -> SimJob:
        for job in self.jobs:
            if job.name == name and job.region == region:
                return job
        raise KeyError(f"no job {name!r} in {region} in this fleet")

    @property
    def regions(self) -> list[str]:
        return sorted({job.region for job in self.jobs} | {DEFAULT_REGION})

    @property
    def accounts(self) -> list[str]:
        """Every account the fleet seeds: its own and those its jobs (or its Organization) are in."""
        members = self.organization.member_account_ids if self.organization else []
        return sorted({self.account_id, *members, *(job.account_id for job in self.jobs)})


def script_bucket(account_id: str, region: str) -> str:
    return f"aws-glue-assets-{account_id}-{region}"


def build_fleet(jobs: int, seed: int, now: datetime, account_id: str = DEFAULT_ACCOUNT_ID) -> Fleet:
    """`jobs` jobs; the same (jobs, seed, now) always gives the same fleet."""
    if jobs < 0:
        raise ValueError(f"jobs must be 0 or more, got {jobs}")
    rng = random.Random(seed)
    # A generator: each random profile is drawn just before its job is built, as the fleets of a seed always were.
    profiles = (ARCHETYPES[i] if i < len(ARCHETYPES) else random_profile(rng) for i in range(jobs))
    return build_fleet_from(profiles, seed, now, account_id, rng)


def build_fleet_from(profiles: Iterable[Profile], seed: int, now: datetime, account_id: str = DEFAULT_ACCOUNT_ID,
                     rng: random.Random | None = None) -> Fleet:
    """A fleet of one job per profile (a fleet whose truth a test chooses); the same arguments, the same fleet."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (e.g. datetime.now(UTC))")
    rng = rng or random.Random(seed)
    used: set[tuple[str, str]] = set()
    built = [_build_job(normalize(profile, rng), rng, index, seed, now, account_id, used)
             for index, profile in enumerate(profiles)]
    return Fleet(seed=seed, now=now, account_id=account_id, jobs=built)


def _unique_name(profile: Profile, rng: random.Random, region: str, used: set[tuple[str, str]]) -> str:
    name = profile.name or "_".join((rng.choice(DOMAINS), rng.choice(ACTIONS), rng.choice(SUFFIXES)))
    candidate, n = name, 2
    while (region, candidate) in used:
        candidate, n = f"{name}_{n}", n + 1
    used.add((region, candidate))
    return candidate


def _secret(rng: random.Random, kind: str) -> str:
    alnum = string.ascii_letters + string.digits
    if kind == "token":
        return "ghp_" + "".join(rng.choices(alnum, k=36))
    if kind == "aws":
        return "".join(rng.choices(alnum + "/+", k=40))
    return "Sup3r" + "".join(rng.choices(alnum, k=8)) + "!x9"


def _build_job(p: Profile, rng: random.Random, index: int, seed: int, now: datetime, account_id: str,
               used: set[tuple[str, str]]) -> SimJob:
    region = p.region or DEFAULT_REGION
    name = _unique_name(p, rng, region, used)
    bucket = script_bucket(account_id, region)
    table = f"{rng.choice(DOMAINS)}_{rng.choice(('events', 'orders', 'snapshot', 'ledger', 'accounts'))}"
    password = _secret(rng, "password")
    secrets: set[str] = set()
    script = render_script(p.job_type, p.rules, slug=f"job{index}", table=table, database=f"{table.split('_')[0]}_db",
                           bucket=bucket, secret=password)
    if "hardcoded-credentials" in p.rules:
        secrets.add(password)
    if p.leaky_errors:
        secrets.add(password)
    args = _arguments(p, rng, bucket, table, secrets)
    base = 60 * int(rng.choice((60, 120, 240, 480, 2880)))
    config = RunConfig(worker_type=p.worker_type, number_of_workers=p.workers,
                       max_capacity=_max_capacity(p), glue_version=p.glue_version,
                       execution_class=p.execution_class, timeout_minutes=base // 60,
                       auto_scaling=p.auto_scaling)
    old_config = None
    if p.config_change:
        old_config = RunConfig(p.worker_type, (p.workers or 2) * 2 if p.workers else None,
                               _max_capacity(p, scale=2), p.glue_version, "STANDARD", base // 60)
    created = _created_on(p, rng, now)
    key_base = (((seed & 0xFFFFF) << 20) | index) << 23
    runs = build_runs(p, rng, name=name, now=now.timestamp(), created=created.timestamp(), config=config,
                      old_config=old_config, secret=password, key_base=key_base)
    if runs and runs[0].started < created.timestamp():
        created = datetime.fromtimestamp(runs[0].started, UTC) - timedelta(days=1)
    return SimJob(account_id=account_id, region=region, name=name, profile=p, created_on=created,
                  command=_command(p, name, bucket), default_arguments=args, tags=_tags(p, rng),
                  config=config, max_retries=rng.choice((0, 0, 1, 2)), script=script,
                  secrets=frozenset(secrets), runs=runs)


def _max_capacity(p: Profile, scale: int = 1) -> float | None:
    if p.worker_type and p.workers:
        return p.workers * scale * WORKER_DPU[p.worker_type]  # Glue reports workers × DPU here
    return p.max_capacity * (scale if p.job_type != "pythonshell" else 1) if p.max_capacity else None


def _created_on(p: Profile, rng: random.Random, now: datetime) -> datetime:
    if p.status == "new":
        return now - timedelta(days=rng.uniform(0.2, 12.5))
    if p.status == "never_run":
        return now - timedelta(days=rng.uniform(15.5, 400))
    # Hourly jobs are young, so their histories stay near 1,000-2,000 runs rather than 8,760.
    if p.schedule in ("hourly", "every4h"):
        history = rng.uniform(42, 80) if p.schedule == "hourly" else rng.uniform(60, 150)
    else:
        history = rng.uniform(20, 400)
    return now - timedelta(days=AGE_RANGES_DAYS[p.status][1] + history)


def _command(p: Profile, name: str, bucket: str) -> dict[str, str]:
    if "scala-script" in p.rules:
        return {"Name": "glueetl", "ScriptLocation": f"s3://{bucket}/scripts/{name}.scala"}
    command = {"Name": p.job_type, "ScriptLocation": f"s3://{bucket}/scripts/{name}.py"}
    if "python2-syntax" in p.rules:
        command["PythonVersion"] = "2"
    elif p.job_type == "glueray":
        command.update(PythonVersion="3.9", Runtime="Ray2.4")
    else:
        command["PythonVersion"] = "3.9" if p.job_type == "pythonshell" else "3"
    return command


def _arguments(p: Profile, rng: random.Random, bucket: str, table: str, secrets: set[str]) -> dict[str, str]:
    spark = p.job_type in SPARK_JOB_TYPES
    args = {"--TempDir": f"s3://{bucket}/temporary/", "--target_path": f"s3://{bucket}-curated/{table}/"}
    if spark:
        args["--job-language"] = "scala" if "scala-script" in p.rules else "python"
        args["--job-bookmark-option"] = rng.choice(("job-bookmark-enable", "job-bookmark-disable"))
        args["--enable-glue-datacatalog"] = "true"
        args["--enable-continuous-cloudwatch-log"] = "true"
        if p.metrics:
            args["--enable-metrics"] = "true"
            if p.glue_version in ("4.0", "5.0"):
                args["--enable-observability-metrics"] = "true"
        if p.auto_scaling:
            args["--enable-auto-scaling"] = "true"
        if p.spark_ui:
            args["--enable-spark-ui"] = "true"
            args["--spark-event-logs-path"] = f"s3://{bucket}/sparkHistoryLogs/"
        if "scala-script" in p.rules:
            args["--class"] = "GlueApp"
    if p.job_type == "pythonshell":
        args.update({"--source_bucket": f"{bucket}-landing", "--source_key": f"exports/{table}.csv",
                     "--additional-python-modules": "pyarrow==14.0.1"})
    if p.job_type == "gluestreaming":
        args["--checkpoint_path"] = f"s3://{bucket}/checkpoints/{table}/"
    if "runtime-code-execution" in p.rules:
        args["--threshold_expr"] = "0.95"
    if rng.random() < 0.2:
        args["--secret_name"] = "prod/warehouse/etl"  # a reference to Secrets Manager, not a secret
    if "secret-argument-logged" in p.rules or p.secret_args:
        password = _secret(rng, "password")
        args["--db_password"] = password
        secrets.add(password)
        if p.secret_args:
            token, aws_key = _secret(rng, "token"), _secret(rng, "aws")
            args["--api_token"] = token
            args["--aws_secret_access_key"] = aws_key
            secrets.update((token, aws_key))
    return args


def _tags(p: Profile, rng: random.Random) -> dict[str, str]:
    if p.missing_tags == "all":
        return {}
    tags = {"env": p.env, "owner": rng.choice(OWNERS), "cost-center": rng.choice(COST_CENTERS),
            "team": rng.choice(OWNERS)}
    tags.pop(p.missing_tags, None)
    return tags


def schedule_expression(schedule: str) -> str | None:
    """The trigger cron Glue would hold for a schedule (None for ad hoc and continuous jobs)."""
    return {"hourly": "cron(15 * * * ? *)", "every4h": "cron(0 0/4 * * ? *)", "daily": "cron(0 3 * * ? *)",
            "weekly": "cron(0 4 ? * MON *)", "monthly": "cron(0 5 1 * ? *)"}.get(schedule)

