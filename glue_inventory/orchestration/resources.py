"""Dagster resources: AWS platforms from the config, the inventory database, the reports location."""

from datetime import UTC, datetime
from functools import cached_property

import dagster as dg
from pydantic import PrivateAttr
from sqlalchemy.exc import SQLAlchemyError

from glue_inventory.aws.clients import AssumedRoles, CallCounter, PlatformSession, platform_sessions
from glue_inventory.aws.pacing import THROTTLED_SHARE_WARNING, LearnedRate, process_pacing
from glue_inventory.aws.sessions import SessionMap
from glue_inventory.config import (
    DEFAULT_REPORTS_DIR,
    ConfigError,
    PacingSettings,
    Settings,
    home_region,
    load_settings,
    read_environment,
)
from glue_inventory.reports.store import read_report_json, report_location, write_reports
from glue_inventory.services.actions.apply import remediation_organization, remediation_platforms
from glue_inventory.services.organization import Discovery, discover, member_sessions, organization_session
from glue_inventory.storage.db import database_url, engine_for
from glue_inventory.storage.learned_rates import load_learned_rates, save_learned_rates


class GlueInventoryConfig(dg.ConfigurableResource):
    """The tool's settings: `GLUE_INVENTORY_CONFIG` YAML, or built-in defaults."""

    config_path: str | None = None

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.config_path)


class AwsPlatforms(dg.ConfigurableResource):
    """boto3 sessions for every configured platform and region (and every account of the Organization),
    sharing one call counter and the assumed roles' credentials."""

    config: dg.ResourceDependency[GlueInventoryConfig]
    _counter: CallCounter = PrivateAttr(default_factory=CallCounter)
    _roles: AssumedRoles = PrivateAttr(default_factory=AssumedRoles)
    _sessions: list[PlatformSession] | None = PrivateAttr(default=None)
    _pacing_mark: dict = PrivateAttr(default_factory=dict)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """The process's pacing starts each (account, Region, API family) from the rate stored by earlier runs."""
        try:
            pacing = self.config.settings.pacing
        except ConfigError:  # the asset fails with the config's one-line error; the pacing takes its defaults
            pacing = PacingSettings()
        process_pacing().configure(pacing.initial_requests_per_second, pacing.adaptive, _stored_rates)
        self._pacing_mark = process_pacing().mark()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """What this run learned is stored for the next one (a failed write costs the next run its head start,
        not this run its result)."""
        learned = process_pacing().learned(self._pacing_mark)
        if not learned:
            return
        rows = [{"account_id": item.account_id, "region": item.region, "api_family": item.family,
                 "requests_per_second": item.rate, "limit_found": item.limit_found, "calls": item.calls,
                 "throttled": item.throttles} for item in learned]
        try:
            save_learned_rates(engine_for(database_url()), rows, datetime.now(UTC))
        except SQLAlchemyError as exc:
            context.log.warning(f"learned request rates not stored: {exc}")

    def pacing_metadata(self) -> dict:
        """The run's throttled answers and learned rates, for its materialization's metadata; a run throttled
        on more than 1 % of its calls says so in `throttling`."""
        summary = process_pacing().summary(self._pacing_mark)
        calls, throttled = summary["paced_calls"], summary["throttled_answers"]
        verdict = "over" if summary["throttled_over_1pct"] else "within"
        return {
            "throttled_answers": throttled,
            "throttled_share": summary["throttled_share"],
            "throttling": f"{throttled} of {calls} paced calls throttled ({summary['throttled_share']:.2%}), "
                          f"{verdict} the {THROTTLED_SHARE_WARNING:.0%} a run allows",
            "learned_rates": dg.MetadataValue.json(summary["learned_rates"]),
        }

    def sessions(self) -> list[PlatformSession]:
        if self._sessions is None:
            settings = self.config.settings
            self._sessions = platform_sessions(settings.effective_platforms(), max_pool=settings.max_workers,
                                               counter=self._counter, roles=self._roles)
        return self._sessions

    def discover(self) -> Discovery | None:
        """The Organization's accounts (None without `organization:`); raises OrganizationError."""
        org = self.config.settings.organization
        if org is None:
            return None
        return discover(org, organization_session(home_region(), self._counter, self._roles), self._roles,
                        self._counter, self.config.settings.max_workers)

    def member_sessions(self, discovery: Discovery | None) -> list[PlatformSession]:
        if discovery is None:
            return []
        return platform_sessions(discovery.platforms, max_pool=self.config.settings.max_workers,
                                 counter=self._counter, roles=self._roles)

    def session_map(self) -> SessionMap:
        """The sessions by (account, Region), isolating platforms that cannot be reached."""
        settings = self.config.settings
        member = (member_sessions(settings.organization, self._counter, self._roles, settings.max_workers)
                  if settings.organization else None)
        return SessionMap(self.sessions(), member=member)

    def remediation_session_map(self) -> SessionMap:
        """Sessions for `apply_remediation`: the remediation role replaces the read-only one where one is assumed
        (the Organization's member role included)."""
        settings = self.config.settings
        org = remediation_organization(settings)
        member = member_sessions(org, self._counter, self._roles, settings.max_workers) if org else None
        return SessionMap(platform_sessions(remediation_platforms(settings), max_pool=settings.max_workers,
                                            counter=self._counter, roles=self._roles), member=member)

    @property
    def counter(self) -> CallCounter:
        return self._counter


def _stored_rates() -> dict[tuple[str, str, str], LearnedRate]:
    """The rates earlier runs learned, by (account, Region, API family); none when the database cannot say."""
    try:
        rows = load_learned_rates(engine_for(database_url()))
    except SQLAlchemyError:
        return {}
    return {(row["account_id"], row["region"], row["api_family"]):
            LearnedRate(row["account_id"], row["region"], row["api_family"], row["requests_per_second"],
                        row["limit_found"]) for row in rows}


class InventoryDatabase(dg.ConfigurableResource):
    """The inventory tables (`GLUE_INVENTORY_DATABASE_URL`); migrated to the latest schema on first use."""

    url: str | None = None

    def engine(self):
        return engine_for(self.url or database_url())


class ReportsLocation(dg.ConfigurableResource):
    """Where report files go: a local directory or `s3://bucket/prefix` (`GLUE_INVENTORY_REPORTS_DIR`)."""

    base: str | None = None

    @property
    def root(self) -> str:
        return self.base or read_environment().reports_dir or DEFAULT_REPORTS_DIR

    def read_json(self, relpath: str):
        """A JSON file written earlier (e.g. the inventory history), or None when there is none yet."""
        return read_report_json(self.root, relpath)

    def write(self, files: dict[str, str | bytes]) -> list[str]:
        return write_reports(self.root, files)

    def link(self, relpath: str) -> dg.MetadataValue:
        """A report file for the UI: a URL for s3:// reports, the local path otherwise."""
        location, local = report_location(self.root, relpath)
        return dg.MetadataValue.path(location) if local else dg.MetadataValue.url(location)
