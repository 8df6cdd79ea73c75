"""What each simulated job is meant to be: its shape, status and planted problems.

The first jobs of every fleet are archetypes that together plant every status, candidate reason and
code rule, so even a 60-job fleet covers them all; the rest are random draws weighted like a real estate.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from glue_inventory.simulate.catalog import ENVS, SECOND_REGION
from glue_inventory.simulate.scripts import RULES_BY_TYPE


@dataclass(frozen=True)
class Profile:
    job_type: str = "glueetl"
    glue_version: str | None = "4.0"
    worker_type: str | None = "G.1X"
    workers: int | None = 10
    max_capacity: float | None = None
    execution_class: str = "STANDARD"
    env: str = "prod"
    status: str = "active"
    schedule: str = "daily"  # hourly, every4h, daily, weekly, monthly, adhoc, continuous
    rules: frozenset[str] = frozenset()
    secret_args: bool = False
    missing_tags: str = ""  # "", "owner", "cost-center", "all"
    metrics: bool = True
    failing: bool = False
    over_provisioned: bool = False
    starved: bool = False  # its runs need more executors than it has (CloudWatch says so)
    auto_scaling: bool = False
    leaky_errors: bool = False  # error messages carry a JDBC URL with its password
    running: bool = False  # latest run still RUNNING
    config_change: bool = False  # older runs used a different capacity / execution class
    script_missing: bool = False
    spark_ui: bool = False  # writes Spark event logs under --spark-event-logs-path (simulate/event_logs.py)
    region: str | None = None
    name: str | None = None


_R = frozenset
ARCHETYPES: tuple[Profile, ...] = (
    Profile(schedule="hourly", workers=10, name="clickstream_sessionize_hourly", spark_ui=True),
    Profile(status="idle", schedule="daily", name="daily sales.eu", region=SECOND_REGION),
    Profile(status="stale", schedule="weekly", glue_version="2.0", name="ingest...raw"),
    Profile(status="abandoned", schedule="monthly", glue_version=None, worker_type=None, workers=None,
            max_capacity=10.0, name="données_clients"),
    Profile(status="never_run", schedule="adhoc", env="dev"),
    Profile(status="new", schedule="adhoc", env="staging"),
    Profile(schedule="daily", failing=True, leaky_errors=True, env="dev"),
    # One of the costliest jobs, and over-provisioned: a deep analysis measures what right-sizing saves.
    Profile(schedule="hourly", worker_type="G.2X", workers=20, execution_class="FLEX", env="dev",
            over_provisioned=True, name="orders.v2.hourly", spark_ui=True),
    Profile(schedule="daily", secret_args=True, rules=_R({"secret-argument-logged"}), env="staging"),
    Profile(schedule="daily", missing_tags="owner", rules=_R({"collect-on-large-data"}), over_provisioned=True,
            workers=40, env="staging", spark_ui=True),
    Profile(schedule="weekly", missing_tags="cost-center", rules=_R({"single-partition-write"})),
    Profile(schedule="daily", missing_tags="all", rules=_R({"job-init-without-commit", "bare-except"}),
            name="étape finale (copy)"),
    Profile(job_type="pythonshell", glue_version="3.0", worker_type=None, workers=None, max_capacity=0.0625,
            rules=_R({"hardcoded-credentials"}), schedule="hourly"),
    Profile(schedule="daily", rules=_R({"sql-from-strings"}), env="dev"),
    Profile(glue_version="0.9", worker_type=None, workers=None, max_capacity=5.0, schedule="weekly",
            rules=_R({"python2-syntax"}), name="Ünïcödé report"),
    Profile(job_type="pythonshell", glue_version="1.0", worker_type=None, workers=None, max_capacity=1.0,
            rules=_R({"runtime-code-execution"}), schedule="daily", failing=True),
    Profile(glue_version="3.0", schedule="daily", rules=_R({"scala-script"}), metrics=False),
    Profile(job_type="gluestreaming", schedule="continuous", workers=4, running=True, glue_version="4.0"),
    Profile(job_type="glueray", worker_type="Z.2X", workers=5, glue_version="4.0", schedule="daily",
            metrics=False, env="dev"),
    Profile(worker_type="G.025X", workers=2, glue_version="3.0", schedule="every4h",
            auto_scaling=True, name="..", env="staging"),
    Profile(worker_type="G.4X", workers=10, glue_version="5.0", schedule="daily", over_provisioned=True,
            spark_ui=True),
    Profile(worker_type="G.8X", workers=4, glue_version="4.0", schedule="weekly", execution_class="FLEX",
            env="dev", config_change=True),
    Profile(worker_type="Standard", workers=10, max_capacity=10.0, glue_version="1.0", schedule="daily",
            name="job with  two spaces"),
    Profile(schedule="daily", running=True, env="staging", metrics=False),
    Profile(schedule="monthly", failing=True),  # failing but too few runs to count
    Profile(status="never_run", job_type="pythonshell", glue_version=None, worker_type=None, workers=None,
            max_capacity=0.0625, missing_tags="all"),
    Profile(status="idle", job_type="glueray", worker_type="Z.2X", workers=2, schedule="weekly", metrics=False),
    Profile(status="stale", job_type="pythonshell", worker_type=None, workers=None, max_capacity=1.0,
            glue_version="3.0", schedule="daily", secret_args=True),
    Profile(status="abandoned", schedule="daily", glue_version="3.0", script_missing=True),
    Profile(status="new", glue_version="5.0", env="prod", schedule="daily"),
    Profile(schedule="daily", glue_version="3.0", config_change=True, auto_scaling=True, env="dev"),
    Profile(job_type="gluestreaming", schedule="continuous", workers=2, glue_version="3.0", env="dev",
            rules=_R({"bare-except"}), running=True, region=SECOND_REGION),
    Profile(schedule="daily", rules=_R({"hardcoded-credentials", "runtime-code-execution"}), env="dev",
            leaky_errors=True, failing=True),
)


def random_profile(rng: random.Random) -> Profile:
    """A job drawn from an estate's usual mix: mostly healthy, some idle or broken."""
    job_type = rng.choices(("glueetl", "pythonshell", "gluestreaming", "glueray"), (70, 22, 3, 5))[0]
    status = rng.choices(("active", "idle", "stale", "abandoned", "never_run", "new"), (62, 12, 8, 8, 6, 4))[0]
    schedule = rng.choices(("hourly", "every4h", "daily", "weekly", "monthly", "adhoc"), (1, 2, 22, 38, 22, 15))[0]
    profile = Profile(
        job_type=job_type, status=status, schedule=schedule, env=rng.choice(ENVS),
        glue_version=rng.choices(("0.9", "1.0", "2.0", "3.0", "4.0", "5.0", None), (2, 3, 10, 25, 40, 15, 5))[0],
        worker_type=rng.choices(("G.025X", "G.1X", "G.2X", "G.4X", "G.8X"), (4, 60, 25, 8, 3))[0],
        workers=rng.choice((2, 2, 3, 5, 5, 10, 10, 10, 20, 40)),
        execution_class="FLEX" if rng.random() < 0.15 else "STANDARD",
        secret_args=rng.random() < 0.04,
        missing_tags=rng.choices(("", "owner", "cost-center", "all"), (80, 8, 8, 4))[0],
        metrics=rng.random() < 0.85,
        failing=rng.random() < 0.05,
        over_provisioned=rng.random() < 0.3,
        auto_scaling=rng.random() < 0.2,
        leaky_errors=rng.random() < 0.05,
        running=rng.random() < 0.02,
        config_change=rng.random() < 0.1,
        region=SECOND_REGION if rng.random() < 0.15 else None,
    )
    if job_type == "glueetl" and rng.random() < 0.02:
        return replace(profile, rules=frozenset({"scala-script"}), glue_version="3.0")
    if rng.random() < 0.25:
        rules = frozenset(rng.sample(RULES_BY_TYPE[job_type], k=rng.choice((1, 1, 2))))
        profile = replace(profile, rules=rules)
    return profile


def normalize(profile: Profile, rng: random.Random) -> Profile:
    """Make a profile consistent with what Glue accepts for its job type and version."""
    p = profile
    if p.job_type == "pythonshell":
        p = replace(p, worker_type=None, workers=None, metrics=False, auto_scaling=False,
                    execution_class="STANDARD", max_capacity=p.max_capacity or rng.choice((0.0625, 1.0)),
                    glue_version=p.glue_version if p.glue_version in ("1.0", "3.0", None) else "3.0")
    elif p.job_type == "glueray":
        p = replace(p, worker_type="Z.2X", max_capacity=None, glue_version="4.0", metrics=False,
                    auto_scaling=False, execution_class="STANDARD")
    elif p.glue_version in ("0.9", None) and p.worker_type != "Standard":
        # Glue 0.9 predates worker types: capacity is MaxCapacity (DPUs) only.
        p = replace(p, worker_type=None, workers=None, max_capacity=p.max_capacity or float(p.workers or 10))
    if p.job_type == "gluestreaming":
        p = replace(p, schedule="continuous", glue_version=p.glue_version if p.glue_version in ("3.0", "4.0")
                    else "4.0", worker_type=p.worker_type or "G.1X", workers=p.workers or 2, max_capacity=None)
    if p.worker_type == "Z.2X" and p.job_type != "glueray":
        p = replace(p, worker_type="G.1X")
    if p.execution_class == "FLEX" and (p.job_type != "glueetl" or p.glue_version not in ("3.0", "4.0", "5.0")):
        p = replace(p, execution_class="STANDARD")
    if p.auto_scaling and p.glue_version not in ("3.0", "4.0", "5.0"):
        p = replace(p, auto_scaling=False)
    if p.status in ("never_run", "new"):
        p = replace(p, schedule="adhoc", running=False, failing=False, config_change=False)
    if p.status != "active":
        p = replace(p, running=False)
    if "python2-syntax" in p.rules:
        p = replace(p, job_type="glueetl", rules=frozenset({"python2-syntax"}))
        if p.glue_version not in ("0.9", "1.0", None):
            p = replace(p, glue_version="1.0")
    return p
