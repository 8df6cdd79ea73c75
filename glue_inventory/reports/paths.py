"""Where a job's report lives: a reversible, filesystem- and S3-safe path from its partition key."""

from __future__ import annotations

import string
from urllib.parse import quote, unquote

JOBS_DIR = "jobs"
REMEDIATION_DIR = "remediation"
SUFFIX = ".md"
# Letters, digits, '-' and '_' are safe everywhere; '.' is encoded too so no segment is '.', '..'
# or a hidden file, and '~' because some shells expand it.
_SAFE = frozenset(string.ascii_letters + string.digits + "-_")
# ext4, APFS and NTFS cap a file name at 255 bytes; 200 leaves room for the suffix and a
# temporary-file prefix (store.py). A longer encoded name continues in a sub-directory.
_MAX_SEGMENT = 200


def _encode(text: str) -> list[str]:
    """One token per character, so a split never falls inside a character's escapes."""
    return [
        char if char in _SAFE else "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        for char in text
    ]


def _segments(tokens: list[str]) -> list[str]:
    segments: list[str] = []
    current = ""
    for token in tokens:
        if len(current) + len(token) > _MAX_SEGMENT:
            segments.append(current)
            current = ""
        current += token
    return [*segments, current]


def split_job_key(key: str) -> tuple[str, str, str]:
    """`<account_id>/<region>/<job_name>`; the job name itself may contain '/'."""
    parts = key.split("/", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"job key {key!r} is not '<account_id>/<region>/<job_name>'")
    return parts[0], parts[1], parts[2]


def _keyed_relpath(directory: str, key: str) -> str:
    account, region, name = split_job_key(key)
    segments = _segments(_encode(name))
    segments[-1] += SUFFIX
    return "/".join([directory, "".join(_encode(account)), "".join(_encode(region)), *segments])


def job_report_relpath(key: str) -> str:
    """`jobs/<account>/<region>/<percent-encoded job name>.md`, unique per key and reversible."""
    return _keyed_relpath(JOBS_DIR, key)


def remediation_relpath(key: str) -> str:
    """`remediation/<account>/<region>/<percent-encoded job name>.md`: the job's remediation plans."""
    return _keyed_relpath(REMEDIATION_DIR, key)


def job_key_from_relpath(relpath: str) -> str:
    """The inverse of `job_report_relpath`."""
    parts = relpath.split("/")
    if len(parts) < 4 or parts[0] != JOBS_DIR or not parts[-1].endswith(SUFFIX):
        raise ValueError(f"{relpath!r} is not a job report path ({JOBS_DIR}/<account>/<region>/<name>{SUFFIX})")
    account, region, *segments = parts[1:]
    segments[-1] = segments[-1][: -len(SUFFIX)]

    def decode(text: str) -> str:
        return unquote(text, errors="surrogatepass")

    return "/".join([decode(account), decode(region), decode("".join(segments))])


def report_href(relpath: str) -> str:
    """A relative URL to a report: the '%' of the file name must itself be escaped in a link."""
    return quote(relpath, safe="/")
