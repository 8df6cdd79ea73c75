"""write_reports on a local directory (atomic) and on S3 (moto server, reached through s3fs)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from glue_inventory.reports.paths import job_report_relpath
from glue_inventory.reports.store import write_reports

ODD_KEY = "123456789012/us-east-1/weird name/with ... <dots>"
FILES = {
    "executive_summary.md": "# summary\n",
    "dashboard.html": "<!DOCTYPE html>é",
    "inventory.csv": b"key,name\n",
    job_report_relpath(ODD_KEY): "# job\n",
}


def test_local_write_creates_directories_and_returns_paths(tmp_path: Path) -> None:
    written = write_reports(str(tmp_path / "reports"), FILES)
    assert sorted(written) == sorted(str(tmp_path / "reports" / rel) for rel in FILES)
    assert (tmp_path / "reports" / job_report_relpath(ODD_KEY)).read_text() == "# job\n"
    assert (tmp_path / "reports" / "dashboard.html").read_text(encoding="utf-8") == "<!DOCTYPE html>é"
    assert (tmp_path / "reports" / "inventory.csv").read_bytes() == b"key,name\n"


def test_local_rewrite_replaces_whole_files_and_leaves_no_temp(tmp_path: Path) -> None:
    write_reports(str(tmp_path), {"a/b.md": "first version, longer"})
    before = os.stat(tmp_path / "a" / "b.md").st_ino
    write_reports(str(tmp_path), {"a/b.md": "second"})
    assert (tmp_path / "a" / "b.md").read_text() == "second"
    # A rename gives a new inode: readers holding the old file never see a half-written one.
    assert os.stat(tmp_path / "a" / "b.md").st_ino != before
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b.md"]


def test_file_url_base(tmp_path: Path) -> None:
    written = write_reports(f"file://{tmp_path}", {"x.md": "x"})
    assert written == [f"file://{tmp_path}/x.md"] and (tmp_path / "x.md").read_text() == "x"


@pytest.mark.parametrize("bad", ["../escape.md", "/abs.md", "a/../../b.md", "a//b.md", "./a.md", "a\\..\\b"])
def test_paths_leaving_the_base_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="stay inside"):
        write_reports(str(tmp_path), {bad: "x"})


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket="reports-bucket")
    return "reports-bucket"


def _objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def test_s3_with_endpoint_in_storage_options(s3_endpoint: str, bucket: str) -> None:
    written = write_reports(f"s3://{bucket}/inv/2026", FILES, {"endpoint_url": s3_endpoint})
    assert sorted(written) == sorted(f"s3://{bucket}/inv/2026/{rel}" for rel in FILES)
    objects = _objects(s3_endpoint, bucket)
    assert objects[f"inv/2026/{job_report_relpath(ODD_KEY)}"] == b"# job\n"
    assert objects["inv/2026/dashboard.html"] == "<!DOCTYPE html>é".encode()
    assert objects["inv/2026/inventory.csv"] == b"key,name\n"


def test_s3_with_endpoint_from_aws_endpoint_url(s3_endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    write_reports(f"s3://{bucket}/from-env", {"a.md": "a"})
    assert _objects(s3_endpoint, bucket)["from-env/a.md"] == b"a"
