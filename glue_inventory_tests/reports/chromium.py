"""Debian's headless Chromium for the dashboard tests, installed with apt-get when missing and allowed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def install_chromium() -> str | None:
    """apt-get install chromium when we are root on Debian; the reason it is unavailable otherwise."""
    if CHROMIUM.exists():
        return None
    if not shutil.which("apt-get") or os.geteuid() != 0:
        return "/usr/bin/chromium is missing and apt-get (as root) is not available to install it"
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False,
                                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})  # fmt: skip
        if result.returncode != 0:
            return f"`{' '.join(command)}` failed: {result.stderr.strip()[-300:]}"
    return None if CHROMIUM.exists() else "apt-get installed chromium but /usr/bin/chromium is still missing"
