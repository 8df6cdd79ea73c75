"""The job list: every platform's definitions and tags (or the reason it could not be read), and storing it."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from glue_inventory.analysis.code_rules_common import bookmark_option
from glue_inventory.analysis.secrets import redact_arguments, redact_text, secret_argument_names
from glue_inventory.aws.clients import PlatformSession
from glue_inventory.aws.errors import AWS_ERRORS, describe_error
from glue_inventory.aws.glue import iter_jobs, job_tags
from glue_inventory.aws.parse import parse_job
from glue_inventory.aws.tagging import tagged_jobs
from glue_inventory.config import Pricing
from glue_inventory.keys import encode_partition_key
from glue_inventory.services.realized import record_changes
from glue_inventory.storage import repository
from glue_inventory.storage.remediation import previous_states

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
                              credentials=session.platform.credentials_reference())
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
    """The output of `glue_jobs`: every platform's listing at one moment."""

    listings: list[PlatformListing]
    seen_at: datetime
    # Platforms not listed because an earlier one reaches the same account and Region.
    duplicates: list[str] = field(default_factory=list)

    def live_partition_keys(self) -> set[str]:
        return {job["partition_key"] for listing in self.listings for job in listing.jobs}

    def covers(self, partition_key: str) -> bool:
        """True when the key's platform was listed successfully, so its absence means the job vanished."""
        account_id, region, _ = partition_key.split("/", 2)
        return any(not listing.error and listing.account_id == account_id and listing.region == region
                   for listing in self.listings)

    def platforms_markdown(self) -> str:
        lines = ["| platform | account | region | jobs | status |", "|---|---|---|---|---|"]
        for listing in self.listings:
            status = f"failed: {listing.error}" if listing.error else "ok"
            lines.append(f"| {listing.platform_name} | {listing.account_id or '?'} | {listing.region} "
                         f"| {len(listing.jobs)} | {status} |")
        lines += [f"| {duplicate} | | | 0 | skipped |" for duplicate in self.duplicates]
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


def list_inventory(sessions: Sequence[PlatformSession]) -> InventorySnapshot:
    """Every platform's listing, listed in parallel; a failed platform is a listing with its error."""
    distinct, duplicates = _distinct(sessions)
    with ThreadPoolExecutor(max_workers=min(LISTING_THREADS, len(distinct)) or 1) as pool:
        listings = list(pool.map(list_platform, distinct))
    return InventorySnapshot(listings=listings, seen_at=datetime.now(UTC), duplicates=duplicates)


def store_snapshot(bind: repository.Bind, snapshot: InventorySnapshot, pricing: Pricing | None = None) -> None:
    """One transaction: platforms and jobs upserted, the jobs a successfully listed platform no longer has
    marked deleted, and the remediation changes since the previous inventory recorded (priced with `pricing`)."""
    with repository.transaction(bind) as conn:
        for listing in snapshot.listings:
            _store_listing(conn, listing, snapshot.seen_at, pricing or Pricing())


def _store_listing(conn: repository.Bind, listing: PlatformListing, seen_at: datetime, pricing: Pricing) -> None:
    platform_id = repository.upsert_platform(
        conn, name=listing.platform_name, platform_type=PLATFORM_TYPE,
        account_id=listing.account_id or "unknown", region=listing.region,
        credentials=listing.credentials, status="failed" if listing.error else "ok",
        last_error=listing.error, synced_at=seen_at)
    if listing.error:
        return  # a failed listing says nothing about which jobs vanished
    previous = previous_states(conn, platform_id)
    repository.upsert_jobs(conn, platform_id, listing.jobs, seen_at)
    repository.mark_deleted(conn, platform_id, {job["name"] for job in listing.jobs}, seen_at)
    record_changes(conn, previous, {job["name"]: job for job in listing.jobs}, listing.region, seen_at, pricing)
