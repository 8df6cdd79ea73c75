"""Write report files under a base that is a local directory or an fsspec URL such as s3://bucket/prefix."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fsspec.implementations.local import LocalFileSystem
from upath import UPath


def _checked(relpath: str) -> str:
    """Report paths come from job names (user data): refuse anything that could leave the base."""
    if "\\" in relpath or any(part in ("", ".", "..") for part in relpath.split("/")):
        raise ValueError(f"report path {relpath!r} must be relative and stay inside the reports directory")
    return relpath


def _write_local(target: Path, data: bytes) -> None:
    """Temp file in the same directory, then rename: readers see the old file or the new one, never half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_reports(
    base: str, files: Mapping[str, str | bytes], storage_options: Mapping[str, Any] | None = None
) -> list[str]:
    """Write `files` (relative path → text or bytes) under `base`; returns the written paths.

    `storage_options` go to fsspec (for S3 e.g. `{"endpoint_url": ...}`); s3fs also reads the
    standard AWS_* variables, AWS_ENDPOINT_URL included.
    """
    root = UPath(base, **dict(storage_options or {}))
    local = isinstance(root.fs, LocalFileSystem)
    written = []
    for relpath, content in sorted(files.items()):
        target = root.joinpath(*_checked(relpath).split("/"))
        data = content.encode("utf-8") if isinstance(content, str) else content
        if local:
            _write_local(Path(target.path), data)
        else:
            # An object store PUT is atomic already and has no directories to create.
            target.write_bytes(data)
        written.append(str(target))
    return written


def read_report_json(base: str, relpath: str) -> Any:
    """A JSON file written under `base` earlier, or None when there is none yet."""
    path = UPath(base).joinpath(*_checked(relpath).split("/"))
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def report_location(base: str, relpath: str) -> tuple[str, bool]:
    """Where a report file is: its absolute path (and True) on this machine, else its URL (and False)."""
    target = UPath(base).joinpath(*_checked(relpath).split("/"))
    if isinstance(target.fs, LocalFileSystem):
        return str(Path(target.path).resolve()), True
    return str(target), False
