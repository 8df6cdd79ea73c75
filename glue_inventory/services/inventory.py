"""The job list: every platform's definitions and tags (or the reason it could not be read), and storing it."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from glue_inventory.analysis.code.secrets import redact_arguments, redact_text, secret_argument_names
from glue_inventory.analysis.findings import bookmark_option
from glue_inventory.aws.clients import PlatformSession
from glue_inventory.aws.errors import AWS_ERRORS, describe_error
from glue_inventory.aws.glue import iter_jobs, job_tags
from glue_inventory.aws.parse import parse_job
from glue_inventory.aws.tagging import tagged_jobs
from glue_inventory.config import Pricing
from glue_inventory.keys import ALL_REGIONS, encode_partition_key
from glue_inventory.services.actions.realized import record_changes
from glue_inventory.services.organization import Discovery, SkippedAccount
from glue_inventory.storage import platforms as stored_platforms
from glue_inventory.storage import repository
from glue_inventory.storage.actions.remediation import previous_states

PLATFORM_TYPE = "aws_glue"
# Platforms listed at once: each lists its tags and job definitions as two sequences of pages.
LISTING_THREADS = 8


@dataclass
class PlatformListing:
    """The jobs found on one platform (account + region), or the error that stopped the listing."""

    name: str
    platform_name: str
    region: str
    account_id: str | None
    credentials: dict[str, str]
    jobs: list[dict] = field(default_factory=list)
    error: str | None = None
    skipped_jobs: list[str] = field(default_factory=list)
    # config | organization, and for an Organization account its name and OU path.
    details: dict[str, Any] = field(default_factory=dict)


def job_row(spec, account_id: str, region: str) -> dict:
    """A `data_jobs` row from a parsed job; argument values never leave this function."""
    return {
        "name": spec.name,
        "partition_key": encode_partition_key(account_id, region, spec.name),
        "job_type": spec.job_type,
        "worker_type": spec.worker_type,
        "number_of_workers": spec.number_of_workers,
        "max_capacity": spec.max_capacity,
        "glue_version": spec.glue_version,
        "execution_class": spec.execution_class,
        "python_version": spec.python_version,
        "script_location": spec.script_location,
        "tags": dict(spec.tags),
        "created_on": spec.created_on,
        "default_argument_names": sorted(spec.default_arguments),
        "secret_argument_names": secret_argument_names(spec.default_arguments),
        "job_bookmark_option": bookmark_option(spec.default_arguments),
    }


def list_platform(session: PlatformSession) -> PlatformListing:
    listing = PlatformListing(name=session.name, platform_name=session.platform.name, region=session.region,
                              account_id=session.platform.account_id,
                              credentials=session.platform.credentials_reference(),
                              details=session.platform.account_details())
    try:
        listing.account_id = session.resolve_account_id()
        glue = session.glue
        specs = []
        # The tags are listed while the job definitions are: two independent sequences of pages.
        with ThreadPoolExecutor(max_workers=1) as pool:
            tagged = pool.submit(tagged_jobs, session.tagging)
            for raw in iter_jobs(glue):
                try:
                    specs.append(parse_job(raw))
                except ValueError as exc:
                    listing.skipped_jobs.append(f"{raw.get('Name')!r}: {exc}")
            tags = job_tags(tagged.result(), glue, listing.account_id, session.region, [s.name for s in specs])
        listing.jobs = [job_row(spec, listing.account_id, session.region)
                        | {"tags": redact_arguments(tags.get(spec.name, {}))}
                        for spec in specs]
    except ClientError as exc:
        listing.error = redact_text(describe_error(exc))
    except (BotoCoreError, OSError) as exc:
        listing.error = f"{type(exc).__name__}: {exc}"
    return listing


@dataclass
class InventorySnapshot:
    """The output of `glue_jobs`: every platform's listing at one moment.

    With an Organization (`whole_estate`) the snapshot is every account there is: a platform it does not
    list (an account that left, was excluded or suspended, a Region no longer enabled) is retired and its
    jobs become deleted, unless another platform of the same account failed (then nothing is concluded).
    """

    listings: list[PlatformListing]
    seen_at: datetime
    # Platforms not listed because an earlier one reaches the same account and Region.
    duplicates: list[str] = field(default_factory=list)
    skipped: list[SkippedAccount] = field(default_factory=list)
    whole_estate: bool = False

    def live_partition_keys(self) -> set[str]:
        return {job["partition_key"] for listing in self.listings for job in listing.jobs}

    def covers(self, partition_key: str) -> bool:
        """True when the key's platform was listed successfully, or is retired, so its absence means the job
        vanished."""
        account_id, region, _ = partition_key.split("/", 2)
        return any(not listing.error and listing.account_id == account_id and listing.region == region
                   for listing in self.listings) or self.retirement(account_id, region) is not None

    def retirement(self, account_id: str, region: str, name: str | None = None) -> str | None:
        """Why a stored platform (`name`) of this account and Region is no longer inventoried (None: it still
        is)."""
        if not self.whole_estate:
            return None
        here = [listing for listing in self.listings if listing.account_id == account_id and listing.region == region]
        if name is not None and here and all(listing.platform_name != name for listing in here):
            return f"listed as platform {here[0].platform_name} now"
        if here or any(listing.account_id == account_id and listing.error for listing in self.listings):
            return None
        skipped = next((s for s in self.skipped if s.account_id == account_id), None)
        return skipped.reason if skipped else "not in the Organization (nor in platforms:) any more"

    def platforms_markdown(self) -> str:
        lines = ["| platform | account | region | jobs | status |", "|---|---|---|---|---|"]
        for listing in self.listings:
            status = f"failed: {listing.error}" if listing.error else "ok"
            name = listing.details.get("account_name") or listing.platform_name
            lines.append(f"| {name} | {listing.account_id or '?'} | {listing.region} "
                         f"| {len(listing.jobs)} | {status} |")
        lines += [f"| {duplicate} | | | 0 | skipped |" for duplicate in self.duplicates]
        lines += [f"| {s.account_name} | {s.account_id} | | 0 | skipped: {s.reason} |" for s in self.skipped]
        return "\n".join(lines)


def _distinct(sessions: Sequence[PlatformSession]) -> tuple[list[PlatformSession], list[str]]:
    """The sessions to list: the first of each (account, Region), and a note for each one left out.
    A session whose account cannot be resolved is kept: its listing records why."""
    first: dict[tuple[str, str], str] = {}
    kept, duplicates = [], []
    for session in sessions:
        try:
            target = (session.resolve_account_id(), session.region)
        except AWS_ERRORS:
            kept.append(session)
            continue
        if target in first:
            duplicates.append(f"{session.name}: same account {target[0]} and Region as {first[target]}")
            continue
        first[target] = session.name
        kept.append(session)
    return kept, duplicates


def list_inventory(sessions: Sequence[PlatformSession], discovery: Discovery | None = None) -> InventorySnapshot:
    """Every platform's listing, listed in parallel; a failed platform is a listing with its error. With a
    `discovery`, `sessions` include its platforms' and the snapshot also holds the accounts it could not
    reach (failed listings) and those it skipped."""
    distinct, duplicates = _distinct(sessions)
    with ThreadPoolExecutor(max_workers=min(LISTING_THREADS, len(distinct)) or 1) as pool:
        listings = list(pool.map(list_platform, distinct))
    snapshot = InventorySnapshot(listings=listings, seen_at=datetime.now(UTC), duplicates=duplicates)
    if discovery is not None:
        snapshot.whole_estate = True
        snapshot.skipped = list(discovery.skipped)
        snapshot.listings += [
            PlatformListing(name=f"{u.platform.name}/{u.region}", platform_name=u.platform.name, region=u.region,
                            account_id=u.platform.account_id, credentials=u.platform.credentials_reference(),
                            error=u.error, details=u.platform.account_details())
            for u in discovery.unreachable]
    return snapshot


def store_snapshot(bind: repository.Bind, snapshot: InventorySnapshot, pricing: Pricing | None = None) -> None:
    """One transaction: platforms and jobs upserted, the jobs a successfully listed platform no longer has
    marked deleted, the remediation changes since the previous inventory recorded (priced with `pricing`), and
    (with an Organization) the platforms no longer inventoried retired."""
    with repository.transaction(bind) as conn:
        for listing in snapshot.listings:
            _store_listing(conn, listing, snapshot.seen_at, pricing or Pricing())
        if snapshot.whole_estate:
            _store_skipped(conn, snapshot)


def _store_listing(conn: repository.Bind, listing: PlatformListing, seen_at: datetime, pricing: Pricing) -> None:
    account_id = listing.account_id or "unknown"
    platform_id = repository.upsert_platform(
        conn, name=listing.platform_name, platform_type=PLATFORM_TYPE,
        account_id=account_id, region=listing.region,
        credentials=listing.credentials, status="failed" if listing.error else "ok",
        last_error=listing.error, synced_at=seen_at, **listing.details)
    if listing.error:
        return  # a failed listing says nothing about which jobs vanished
    # The account and Region may have been listed under another platform before (a renamed platform, an
    # account first configured by hand then discovered): its jobs are this platform's now.
    stored_platforms.adopt_jobs(conn, platform_id, account_id, listing.region)
    previous = previous_states(conn, platform_id)
    repository.upsert_jobs(conn, platform_id, listing.jobs, seen_at)
    repository.mark_deleted(conn, platform_id, {job["name"] for job in listing.jobs}, seen_at)
    record_changes(conn, previous, {job["name"]: job for job in listing.jobs}, listing.region, seen_at, pricing)


def _store_skipped(conn: repository.Bind, snapshot: InventorySnapshot) -> None:
    """Skipped accounts as platforms of every Region (`*`), status `skipped` with the reason; stored platforms
    the Organization no longer has retired (their jobs deleted, history kept)."""
    skipped = {s.account_id for s in snapshot.skipped}
    for account in snapshot.skipped:
        repository.upsert_platform(
            conn, name=account.account_id, platform_type=PLATFORM_TYPE, account_id=account.account_id,
            region=ALL_REGIONS, credentials={}, status="skipped", last_error=account.reason,
            synced_at=snapshot.seen_at, source="organization", account_name=account.account_name,
            ou_path=account.ou_path)
    for platform in stored_platforms.stored_targets(conn):
        if platform.region == ALL_REGIONS:
            if platform.account_id not in skipped:
                stored_platforms.delete_placeholder(conn, platform.id)
            continue
        reason = snapshot.retirement(platform.account_id, platform.region, platform.name)
        if reason is not None:
            stored_platforms.retire(conn, platform.id, reason, snapshot.seen_at)
