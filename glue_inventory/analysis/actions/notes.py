"""What a remediation risks, and what moving off an end-of-life Glue version involves."""

from __future__ import annotations

from glue_inventory.analysis.status import version_in

# The level and the one thing to watch, per plan kind.
RISKS = {
    "delete_job": ("medium", "irreversible once applied: the job definition is archived in the reports (secret "
                             "argument values redacted) so it can be created again"),
    "switch_flex": ("low", "FLEX runs on spare capacity: a run may start later and take longer, so keep it for "
                           "jobs without a tight deadline"),
    "rightsize": ("medium", "fewer or smaller workers fit the measured peak with 20 % headroom; runs slow down if "
                            "the data grows past it — watch the next runs' duration"),
    "enable_job_metrics": ("low", "adds CloudWatch job metrics, billed as custom metrics; the job's runs are "
                                  "unchanged"),
    "upgrade_glue_version": ("high", "a new Spark and Python runtime: run the job once on the new version (a copy "
                                     "or a dev account) before switching production"),
    "move_secrets": ("low", "the job must be changed to read the secret at run time; rotate the exposed value, it "
                            "has been visible to anyone who can read the job"),
}

# Supported targets (AWS Glue developer guide, "AWS Glue versions"): Spark and streaming jobs move to 4.0,
# the version AWS's migration guide targets; Python shell jobs to 3.0 (Python 3.9), its only newer version.
SPARK_TARGET = "4.0"
PYTHON_SHELL_TARGET = "3.0"
LEGACY = ("0.9", "1.0")

# Known points of the migration, from the AWS Glue developer guide ("Migrating AWS Glue for Spark jobs to
# AWS Glue version 4.0" and "Migrating from AWS Glue 2.0"); each is something to check, not a certainty.
_SPARK_NOTES = (
    "Spark 3.3 parses and formats dates with the Proleptic Gregorian calendar: set "
    "spark.sql.legacy.timeParserPolicy=LEGACY (and the Parquet/Avro datetime rebase modes) while you compare "
    "outputs",
    "Python 3.10: rebuild the libraries in --additional-python-modules and --extra-py-files for it",
    "Log4j 2 replaces Log4j 1: a custom log4j.properties needs porting",
    "bundled JDBC drivers are newer (e.g. MySQL 8, PostgreSQL 42): check the connection options",
)
_LEGACY_NOTES = (
    "Python 2 is not supported: the script must run on Python 3 (print statements, str/bytes, dict.iteritems)",
    "Scala scripts must be rebuilt for Scala 2.12",
    "billing changes from a 10-minute to a 1-minute minimum per run, and runs start faster",
)
_PYTHON_SHELL_NOTES = (
    "Python 3.9: rebuild the libraries in --additional-python-modules and --extra-py-files for it",
    "Python 2.7 scripts must be ported to Python 3",
)


def upgrade_target(job_type: str | None) -> str:
    return PYTHON_SHELL_TARGET if job_type == "pythonshell" else SPARK_TARGET


def migration_notes(job_type: str | None, glue_version: str | None) -> list[str]:
    """What to check when moving a job of `job_type` from `glue_version` to its upgrade target."""
    if job_type == "pythonshell":
        return list(_PYTHON_SHELL_NOTES)
    legacy = list(_LEGACY_NOTES) if version_in(glue_version, LEGACY) else []  # no version is 0.9
    return [*legacy, *_SPARK_NOTES]
