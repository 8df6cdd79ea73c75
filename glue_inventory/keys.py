"""Job keys: `<account_id>/<region>/<job_name>`, the partition key of a job in every layer."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import unquote

# Dagster rejects partition keys holding "..." or control characters (INVALID_PARTITION_SUBSTRINGS);
# Glue allows both in job names, so they are percent-encoded, as is "%" itself to stay reversible.
_CONTROL = re.compile(r"[%\x00-\x1f\x7f]")
# A trailing "." would run into the "..." of the CLI's `--partition-range START...END`.
_DOT_RUN = re.compile(r"\.{3,}|\.+$")


# The Region of a skipped account's placeholder platform row: it is skipped in every Region.
ALL_REGIONS = "*"


class JobKey(NamedTuple):
    account_id: str
    region: str
    name: str

    @property
    def partition_key(self) -> str:
        return encode_partition_key(self.account_id, self.region, self.name)


def encode_partition_key(account_id: str, region: str, job_name: str) -> str:
    name = _CONTROL.sub(lambda m: f"%{ord(m.group()):02X}", job_name)
    name = _DOT_RUN.sub(lambda m: "%2E" * len(m.group()), name)
    return f"{account_id}/{region}/{name}"


def decode_partition_key(key: str) -> JobKey:
    """The inverse of `encode_partition_key`; job names may contain "/" so split only twice."""
    parts = key.split("/", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"partition key {key!r} is not <account_id>/<region>/<job_name>")
    return JobKey(parts[0], parts[1], unquote(parts[2]))


def spread_over_platforms(keys: Iterable[str]) -> list[str]:
    """The keys interleaved over their (account, Region), each platform's keys evenly spaced over the whole
    order and its own order kept.

    AWS limits API requests per account and Region, so a run working through one platform at a time
    would leave every other platform's limit unused. Evenly spaced (not round-robin) so that every platform
    finishes when the run does: round-robin over a Region with 4,300 jobs and one with 700 asks both for
    calls at full rate until the small one runs out, and the client, busy parsing the small one's answers,
    falls behind the large one's limit, which is what bounds the run. Dynamic partitions keep the order they
    were added in, so contiguous ranges (the runs the sensor and `--partition-range` make) mix every platform
    in proportion too.
    """
    by_platform: dict[str, list[str]] = {}
    for key in keys:
        account_id, region, _ = key.split("/", 2)
        by_platform.setdefault(f"{account_id}/{region}", []).append(key)
    placed = [((index + 0.5) / len(group), platform, key)
              for platform, group in enumerate(by_platform.values()) for index, key in enumerate(group)]
    return [key for _, _, key in sorted(placed)]
