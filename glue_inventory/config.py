"""Settings from `GLUE_INVENTORY_CONFIG` (YAML) and the environment, validated by pydantic.

Every `GLUE_INVENTORY_*` variable the package reads is a field of `EnvironmentSettings`, read by
`read_environment` and nowhere else (a test greps the package for any other read); `load_settings` attaches it to
the `Settings` as `environment`. Nothing is read at import time: a bad value is reported when the definitions load
or a command runs. Variables of other libraries (`AWS_*`, `OTEL_*`, `OPENAI_*`, `DAGSTER_*`) are read where they
are used (docs/configuration.md).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_DATABASE_URL = "sqlite:///.glue_inventory/inventory.db"
DEFAULT_REPORTS_DIR = ".glue_inventory/reports"
# How often a long step (the run-history refresh, reading the bill) logs its progress.
PROGRESS_EVERY_S = 10.0

# Keys in a platform's credentials that would hold a secret rather than a reference to one.
_SECRET_KEY = re.compile(r"secret|password|passwd|token|session|access_key|private", re.IGNORECASE)


def secret_credential_keys(keys) -> list[str]:
    """The keys of a platform's credentials that would hold a secret (an external id is not one)."""
    return sorted(str(key) for key in keys if key != "external_id" and _SECRET_KEY.search(str(key)))


class ConfigError(ValueError):
    """A configuration problem a user has to fix; the message names the file, key and fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlatformConfig(_Strict):
    """One AWS account, reached with the current credentials or by assuming a role, in some regions."""

    name: str
    account_id: str | None = None
    regions: list[str] = Field(min_length=1)
    role_arn: str | None = None
    external_id: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    max_requests_per_second: float | None = Field(default=None, gt=0)

    @field_validator("account_id")
    @classmethod
    def _account_id_digits(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{12}", value):
            raise ValueError("an AWS account id is 12 digits")
        return value

    def credentials_reference(self) -> dict[str, str]:
        """What `platforms.credentials` stores: references to credentials, never a secret."""
        refs = {"role_arn": self.role_arn, "profile": self.profile, "external_id": self.external_id}
        return {key: value for key, value in refs.items() if value}

    def account_details(self) -> dict[str, str | None]:
        """Where the platform comes from, with the account's name and OU path when Organizations said them."""
        return {"source": "config", "account_name": None, "ou_path": None}


class DiscoveredPlatform(PlatformConfig):
    """An account × its Regions found through AWS Organizations (built by discovery, never read from a file)."""

    account_name: str | None = None
    ou_path: str | None = None

    def account_details(self) -> dict[str, str | None]:
        return {"source": "organization", "account_name": self.account_name, "ou_path": self.ou_path}


# AWS Organizations API reference: OrganizationalUnitId and RootId patterns.
_OU_ID = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
_ACCOUNT_ID = re.compile(r"\d{12}")
# An IAM principal ARN: a role, a user, an assumed-role session (STS) or the account's root; `*` only in the name.
_APPROVER = re.compile(r"arn:aws(-cn|-us-gov)?:(iam::\d{12}:(role|user)/[\w+=,.@/*-]+|sts::\d{12}:assumed-role/"
                       r"[\w+=,.@*-]+/[\w+=,.@*-]+|iam::\d{12}:root)")


def _not_matching(value: object, pattern: re.Pattern[str]) -> list[object]:
    """The items of a list that are not strings matching `pattern` (none when `value` is not a list)."""
    items = value if isinstance(value, list) else []
    return [item for item in items if not isinstance(item, str) or not pattern.fullmatch(item)]


class OrganizationConfig(_Strict):
    """Accounts discovered through AWS Organizations, each reached by assuming `role_name` in it."""

    role_name: str = Field(min_length=1)
    external_id: str | None = None
    regions: list[str] | Literal["enabled"]
    include_ous: list[str] = Field(default_factory=list)
    exclude_accounts: list[str] = Field(default_factory=list)
    max_requests_per_second: float | None = Field(default=None, gt=0)

    @field_validator("role_name")
    @classmethod
    def _role_name_not_arn(cls, value: str) -> str:
        if value.startswith("arn:") or ":" in value:
            raise ValueError("a role name, not an ARN: each account's role ARN is "
                             "arn:aws:iam::<account id>:role/<role_name>")
        return value

    @field_validator("regions", mode="before")
    @classmethod
    def _regions(cls, value: object) -> object:
        if isinstance(value, str) and value != "enabled":
            raise ValueError(f'a list of Regions or "enabled", got {value!r}')
        if isinstance(value, list):
            if not value:
                raise ValueError('list at least one Region, or write "enabled"')
            odd = _not_matching(value, _REGION)
            if odd:
                raise ValueError(f"{odd[0]!r} is not a Region name (e.g. us-east-1)")
        return value

    @field_validator("include_ous", mode="before")
    @classmethod
    def _ou_ids(cls, value: object) -> object:
        odd = _not_matching(value, _OU_ID)
        if odd:
            raise ValueError(f"{odd[0]!r} is not an OU id (ou-xxxx-xxxxxxxx) or root id (r-xxxx)")
        return value

    @field_validator("exclude_accounts", mode="before")
    @classmethod
    def _account_ids(cls, value: object) -> object:
        odd = _not_matching(value, _ACCOUNT_ID)
        if odd and isinstance(odd[0], int):
            raise ValueError(f"write account ids in quotes (\"{odd[0]}\"): YAML reads an unquoted one as "
                             "a number and drops its leading zeros")
        if odd:
            raise ValueError(f"{odd[0]!r} is not an AWS account id (12 digits)")
        return value

    def role_arn(self, account_id: str, partition: str = "aws") -> str:
        return f"arn:{partition}:iam::{account_id}:role/{self.role_name}"


class Thresholds(_Strict):
    """Day and money limits of the analysis rules (docs/rules.md, "Rules of the analysis")."""

    active_days: int = 30
    idle_days: int = 90
    stale_days: int = 180
    new_job_days: int = 14
    window_days: int = 30
    high_cost_monthly_usd: float = 100.0
    high_cost_top_fraction: float = 0.1
    failing_rate: float = 0.5
    failing_min_runs: int = 3


class Pricing(_Strict):
    """USD per DPU-hour by region; `default` applies to regions not listed.

    AWS Glue pricing page: 0.44 (STANDARD) and 0.29 (FLEX) per DPU-hour in us-east-1.
    """

    standard: dict[str, float] = Field(default_factory=lambda: {"default": 0.44})
    flex: dict[str, float] = Field(default_factory=lambda: {"default": 0.29})

    def per_dpu_hour(self, region: str, execution_class: str | None) -> float:
        table = self.flex if (execution_class or "").upper() == "FLEX" else self.standard
        return table.get(region, table.get("default", 0.44))


class LLMSettings(_Strict):
    model: str = "gpt-4o-mini"
    token_budget: int = 12000
    timeout_s: float = 60.0
    max_retries: int = 2


def split_lanes(jobs: int) -> tuple[int, int]:
    """`jobs` deep analyses split between the savings and the risk lane, savings first on an odd count."""
    return (jobs + 1) // 2, jobs // 2


class DeepAnalysisSettings(_Strict):
    """Which jobs get a deep analysis: the top `top_k_savings` candidates by estimated monthly saving and the
    top `top_k_risk` by risk (analysis/deep_selection.py). `top_k`, the single list of earlier versions, is
    deprecated: alone it is split between the two lanes (`split_lanes`)."""

    top_k_savings: int = Field(default=20, ge=0)
    top_k_risk: int = Field(default=10, ge=0)
    top_k: int | None = Field(default=None, ge=0)
    script_max_bytes: int = 2 * 1024 * 1024
    tool_timeout_s: float = 60.0
    max_runs: int = 10
    # Spark event logs (docs/deep-analysis.md): bytes read per run at most, and how much longer a run may be
    # predicted to take on fewer workers for them to be recommended.
    event_log_max_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    max_slowdown: float = Field(default=0.10, ge=0, le=10)

    @model_validator(mode="after")
    def _top_k_alias(self) -> DeepAnalysisSettings:
        if self.top_k is not None:
            warnings.warn("deep_analysis.top_k is deprecated: set deep_analysis.top_k_savings and "
                          "deep_analysis.top_k_risk (top_k alone is split between them)", FutureWarning, stacklevel=2)
            if not {"top_k_savings", "top_k_risk"} & self.model_fields_set:
                self.top_k_savings, self.top_k_risk = split_lanes(self.top_k)
        return self


class ScheduleSettings(_Strict):
    """Cron strings of the daily inventory refresh, the weekly deep analysis and the daily retention job (in
    `timezone`)."""

    refresh_cron: str = "0 6 * * *"
    deep_analysis_cron: str = "0 7 * * 1"
    retention_cron: str = "0 5 * * *"
    timezone: str = "UTC"


class NotificationSettings(_Strict):
    """Where run summaries and failures go; `GLUE_INVENTORY_WEBHOOK_URL` overrides `webhook_url`
    (a Slack webhook URL is itself a credential, so it is better kept out of the file)."""

    sns_topic_arn: str | None = None
    webhook_url: str | None = None


class BillingSettings(_Strict):
    """The Cost and Usage Report to reconcile the estimate with: an AWS Data Exports CUR 2.0 export (or a
    legacy CUR) in Parquet, read with the credentials of `platform` (a configured platform's name) or,
    without one, the tool's own."""

    cur_uri: str
    platform: str | None = None

    @field_validator("cur_uri")
    @classmethod
    def _s3_uri(cls, value: str) -> str:
        if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?", value):
            raise ValueError("expected s3://bucket/prefix/ (the export's bucket and S3 prefix)")
        return value
class MetricsSettings(_Strict):
    """KPIs published to CloudWatch after each inventory, under this namespace (off when unset), in `region`
    (default: AWS_REGION), with the tool's own credentials (`cloudwatch:PutMetricData`, see iam/README.md).
    `dimensions`: besides the fleet's own series, one per `account`, and with `account_team` one per account
    and team tag (each series is a custom metric billed every month: docs/OBSERVABILITY.md counts them)."""

    cloudwatch_namespace: str | None = Field(default=None, min_length=1, max_length=255)
    region: str | None = None
    dimensions: list[Literal["account", "account_team"]] = Field(default_factory=lambda: ["account"])


class FreshnessSettings(_Strict):
    """Hours since a stage's last materialization after which its `fresh` asset check fails: the schedule's
    interval and a margin (the daily refresh: 26 h; the weekly deep analysis: 7 days and 2 h)."""

    glue_jobs: float = Field(default=26.0, gt=0)
    job_preliminary_metrics: float = Field(default=26.0, gt=0)
    deep_analysis_candidates: float = Field(default=26.0, gt=0)
    job_deep_analysis: float = Field(default=170.0, gt=0)
    executive_report: float = Field(default=26.0, gt=0)


class ToolCostPrices(_Strict):
    """USD list prices, us-east-1, of what the tool itself pays AWS for (`tool_cost` in the executive report).

    From the AWS pricing pages as known on `prices_date`; override them for another Region or a newer list.
    """

    prices_date: str = "2025-06-01"
    # AWS Cost Explorer pricing: "$0.01 per paginated API request".
    cost_explorer_request: float = 0.01
    # Amazon CloudWatch pricing, "API requests": GetMetricData $0.01 per 1,000 metrics requested.
    getmetricdata_metric: float = 0.01 / 1000
    # Amazon CloudWatch pricing, "API requests": PutMetricData, GetMetricStatistics, ListMetrics $0.01 per 1,000.
    cloudwatch_request: float = 0.01 / 1000
    # Amazon CloudWatch pricing, "Metrics": $0.30 per custom metric per month (first 10,000), prorated by the hour.
    custom_metric_month: float = 0.30
    # Amazon S3 pricing, S3 Standard requests: GET $0.0004 per 1,000, LIST $0.005 per 1,000.
    s3_get_request: float = 0.0004 / 1000
    s3_list_request: float = 0.005 / 1000
    # Amazon S3 pricing, data transfer: free to a reader in the bucket's Region ($0.09 per GB out to the internet).
    cur_scanned_gb: float = 0.0


class RemediationSettings(_Strict):
    """How `apply_remediation` reaches an account: a platform with a role_arn gets a role of this name in the
    same account instead (its policy: iam/glue-inventory-remediate.json); others use their own credentials.
    `approvers`: the IAM principals whose approval tag counts (checked in CloudTrail); empty, nothing is applied."""

    role_name: str = "glue-inventory-remediate"
    external_id: str | None = None
    approvers: list[str] = Field(default_factory=list)

    @field_validator("approvers")
    @classmethod
    def _approver_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            problem = approver_pattern_problem(pattern)
            if problem:
                raise ValueError(f"{pattern!r}: {problem}")
        return value


class RetentionSettings(_Strict):
    """How much history the daily `retention` job keeps: Dagster runs (and their event logs) younger than
    `dagster_runs_days`, the newest `analyses_per_job` analyses of each job and kind. `job_runs` is always
    kept: it is the history Glue itself drops after 90 days."""

    dagster_runs_days: int = Field(default=90, ge=1)
    analyses_per_job: int = Field(default=30, ge=1)


class EnvironmentSettings(_Strict):
    """The `GLUE_INVENTORY_*` variables (ENVIRONMENT_VARIABLES names each field's variable); unset is None where
    the reader has its own default (the database URL of `serve` is Postgres, of everything else SQLite)."""

    config: str | None = None
    database_url: str | None = None
    reports_dir: str | None = None
    # Sensors and schedules start running with the code location, unless off (e.g. a webserver browsing the
    # demo's data, which must not refresh it); the UI can still start them.
    automation: Literal["on", "off"] = "on"
    automation_interval_s: int = Field(default=30, ge=1)
    sync_interval_s: int = Field(default=300, ge=1)
    webhook_url: str | None = None
    llm_model: str | None = None
    otel_aws_call_ratio: float | None = Field(default=None, ge=0.0, le=1.0, allow_inf_nan=False)
    ui_port: int = Field(default=3000, gt=0, lt=65536)
    code_server_port: int = Field(default=4000, gt=0, lt=65536)

    @property
    def automation_on(self) -> bool:
        return self.automation == "on"


ENVIRONMENT_VARIABLES = {name: f"GLUE_INVENTORY_{name.upper()}" for name in EnvironmentSettings.model_fields}
# What each variable expects, for the error a bad value gets.
_EXPECTED = {
    "automation": "on or off",
    "automation_interval_s": "a whole number of seconds, at least 1",
    "sync_interval_s": "a whole number of seconds, at least 1",
    "otel_aws_call_ratio": "a number from 0 to 1 (the share of AWS calls that get a span)",
    "ui_port": "a TCP port number (1-65535)",
    "code_server_port": "a TCP port number (1-65535)",
}


def read_environment(environ: Mapping[str, str] | None = None) -> EnvironmentSettings:
    """The `GLUE_INVENTORY_*` variables of `environ` (default: the process environment), validated; blank is unset.

    Raises ConfigError naming the variable, its value and what it expects."""
    environ = os.environ if environ is None else environ
    raw: dict[str, str] = {}
    for field, variable in ENVIRONMENT_VARIABLES.items():
        value = (environ.get(variable) or "").strip()
        if value:
            raw[field] = value.lower() if field == "automation" else value
    try:
        return EnvironmentSettings.model_validate(raw)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        raise ConfigError(f"{ENVIRONMENT_VARIABLES[field]}={raw[field]!r}: expected {_EXPECTED.get(field, 'text')} "
                          "— fix or unset the variable") from None


class PacingSettings(_Strict):
    """How requests to AWS are paced per account, Region and API family (aws/pacing.py): the rate is learned
    (AIMD) and stored; `max_requests_per_second` of a platform or the organization stays a ceiling."""

    adaptive: bool = True  # false: unpaced, or evenly spaced at max_requests_per_second where one is set
    initial_requests_per_second: float = Field(default=10.0, gt=0)  # where no rate was learned yet


class Settings(_Strict):
    platforms: list[PlatformConfig] = Field(default_factory=list)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    pricing: Pricing = Field(default_factory=Pricing)
    required_tags: list[str] = Field(default_factory=lambda: ["owner", "cost-center"])
    eol_versions: list[str] = Field(default_factory=lambda: ["0.9", "1.0", "2.0"])
    llm: LLMSettings = Field(default_factory=LLMSettings)
    deep_analysis: DeepAnalysisSettings = Field(default_factory=DeepAnalysisSettings)
    schedules: ScheduleSettings = Field(default_factory=ScheduleSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    organization: OrganizationConfig | None = None
    remediation: RemediationSettings = Field(default_factory=RemediationSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    tool_cost: ToolCostPrices = Field(default_factory=ToolCostPrices)
    freshness: FreshnessSettings = Field(default_factory=FreshnessSettings)
    max_workers: int = Field(default=16, ge=1)
    billing: BillingSettings | None = None
    # From the environment, never the file (load_settings refuses the key there).
    environment: EnvironmentSettings = Field(default_factory=EnvironmentSettings)
    pacing: PacingSettings = Field(default_factory=PacingSettings)

    def effective_platforms(self) -> list[PlatformConfig]:
        """Configured platforms; none beside an `organization:` (its accounts are discovered); else one for
        the current credentials in `AWS_REGION`."""
        if self.platforms or self.organization:
            return self.platforms
        return [PlatformConfig(name="default", regions=[home_region()],
                               endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))]


def home_region() -> str:
    """The Region of the current credentials: `AWS_REGION`, `AWS_DEFAULT_REGION`, else us-east-1."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def approver_pattern_problem(pattern: str) -> str | None:
    """Why `pattern` is not an approver (an IAM principal ARN, `*` wildcards in the name part only), or None."""
    if not _APPROVER.fullmatch(pattern):
        return ("not an IAM principal ARN: write arn:aws:iam::<account id>:role/<name>, …:user/<name> or "
                "arn:aws:sts::<account id>:assumed-role/<role>/<session>, with `*` only in the name part")
    if pattern.rstrip("*").endswith((":role/", ":user/", ":assumed-role/")) or ":assumed-role/*/" in pattern:
        return "names every principal of its kind in the account: name the approvers' roles or users"
    return None


def _error_location(error: dict) -> str:
    return ".".join(str(part) for part in error["loc"]) or "(top level)"


def with_environment(settings: Settings, environment: EnvironmentSettings) -> Settings:
    """`settings` with `environment` attached and what it overrides in the file applied: `GLUE_INVENTORY_LLM_MODEL`
    over `llm.model`, `GLUE_INVENTORY_WEBHOOK_URL` over `notifications.webhook_url`."""
    llm, notifications = settings.llm, settings.notifications
    if environment.llm_model:
        llm = llm.model_copy(update={"model": environment.llm_model})
    if environment.webhook_url:
        notifications = notifications.model_copy(update={"webhook_url": environment.webhook_url})
    return settings.model_copy(update={"environment": environment, "llm": llm, "notifications": notifications})


def load_settings(path: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read `path` (default `GLUE_INVENTORY_CONFIG`; built-in defaults when neither is set) and the
    `GLUE_INVENTORY_*` variables of `environ` (default: the process environment)."""
    environment = read_environment(environ)
    return with_environment(_read_file(path or environment.config), environment)


def _read_file(path: str | os.PathLike | None) -> Settings:
    if not path:
        return Settings()
    file = Path(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: config file not found — fix GLUE_INVENTORY_CONFIG or create the file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: not UTF-8 text — save the config as UTF-8 YAML") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the config ({exc.strerror or exc}) — check the path "
                          "and its permissions") from None
    except RecursionError:
        raise ConfigError(f"{file}: nested too deeply to be a config file") from None
    # PyYAML also raises ValueError/AttributeError for some malformed scalars (dates, tagged values).
    except (yaml.YAMLError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{file}: not valid YAML ({exc}) — fix the syntax at the line shown") from None
    if raw is None:
        return Settings()
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: expected a mapping of settings at the top level, got {type(raw).__name__}")
    if "environment" in raw:
        raise ConfigError(f"{file}: environment: set by the GLUE_INVENTORY_* variables, not the file — remove the "
                          "key (docs/configuration.md lists the variables)")
    platforms = raw.get("platforms")
    for index, platform in enumerate(platforms if isinstance(platforms, list) else []):
        refused = secret_credential_keys(platform if isinstance(platform, dict) else ())
        if refused:
            raise ConfigError(f"{file}: platforms.{index}.{refused[0]}: secrets are not accepted in the config — "
                              "use a role_arn or profile and let boto3 find the credentials")
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = ("unknown key (check its spelling)" if first["type"] == "extra_forbidden"
                   else first["msg"].removeprefix("Value error, "))
        raise ConfigError(f"{file}: {_error_location(first)}: {message} "
                          f"({len(exc.errors())} problem(s); see docs/configuration.md)") from None
