"""Fixed facts of the simulated estate: AWS capacity and price tables, rule ids, vocabulary for names.

The capacity, price and billing tables restate docs/rules.md on purpose: the simulator's ground truth
(truth.py) is computed from them independently of glue_inventory.analysis, so a wrong table in either
fails the pipeline tests. Only the API's vocabulary (run states, job types) is shared.
"""

from __future__ import annotations

DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account
DEFAULT_REGION = "us-east-1"
SECOND_REGION = "eu-west-1"

# DPU per worker, from the Glue API reference (WorkerType) — same table as docs/rules.md.
WORKER_DPU: dict[str, float] = {
    "Standard": 1, "G.025X": 0.25, "G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8,
    "G.12X": 12, "G.16X": 16, "R.1X": 1, "R.2X": 2, "R.4X": 4, "R.8X": 8, "Z.2X": 2,
}
# Glue pricing page, us-east-1, USD per DPU-hour.
PRICE_PER_DPU_HOUR = {"STANDARD": 0.44, "FLEX": 0.29}
# Glue bills Spark jobs on 0.9/1.0 (and jobs with no version, which Glue treats as 0.9) for 10 minutes
# at least; everything newer, Python shell and Ray for 1 minute at least.
LEGACY_SPARK_MIN_S = 600
MIN_BILLED_S = 60
LEGACY_VERSIONS = {None, "0.9", "1.0"}
EOL_VERSIONS = {None, "0.9", "1.0", "2.0"}
REQUIRED_TAGS = ("owner", "cost-center")

WINDOW_DAYS = 30
NEW_JOB_DAYS = 14

STATUSES = ("active", "idle", "stale", "abandoned", "never_run", "new", "deleted")
CANDIDATE_REASONS = (
    "high_cost", "failing", "inactive", "eol_version", "missing_tags", "secrets_in_arguments", "flex_eligible",
)
RULE_IDS = (
    "collect-on-large-data", "single-partition-write", "job-init-without-commit", "hardcoded-credentials",
    "sql-from-strings", "python2-syntax", "runtime-code-execution", "bare-except", "secret-argument-logged",
    "scala-script",
)

DOMAINS = ("sales", "orders", "billing", "marketing", "crm", "inventory", "logistics", "finance", "hr",
           "clickstream", "payments", "risk", "catalog", "support", "ads")
ACTIONS = ("ingest", "transform", "aggregate", "export", "dedupe", "enrich", "compact", "load", "sync",
           "snapshot", "backfill", "publish")
SUFFIXES = ("raw", "daily", "hourly", "curated", "to_redshift", "to_s3", "parquet", "delta", "eu", "us",
            "v2", "incremental", "full")
# Names that exercise quoting and partition-key encoding downstream.
ODD_NAMES = ("daily sales.eu", "ingest...raw", "données_clients", "étape finale (copy)", "orders.v2.hourly",
             "Ünïcödé report", "..", "job with  two spaces")
OWNERS = ("data-platform", "analytics", "finance-eng", "growth", "ml-team", "bi", "ops")
COST_CENTERS = ("CC-1001", "CC-1002", "CC-2040", "CC-3300", "CC-4100")
ENVS = ("prod", "dev", "staging")

