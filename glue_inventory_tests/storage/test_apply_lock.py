"""One apply_remediation at a time: the apply lock is exclusive, and dies with the process that holds it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from glue_inventory.storage.actions.remediation import ApplyInProgress, apply_lock
from glue_inventory.storage.db import engine_for

HOLDER = """
import sys, time
from glue_inventory.storage.db import engine_for
from glue_inventory.storage.actions.remediation import apply_lock

with apply_lock(engine_for(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""


def test_the_apply_lock_is_exclusive_and_released(database_url):
    engine = engine_for(database_url)
    with apply_lock(engine):
        with pytest.raises(ApplyInProgress, match="wait for it to finish"), apply_lock(engine):
            pass
    with apply_lock(engine):  # released on exit
        pass


def test_a_killed_holder_leaves_no_lock(database_url):
    engine = engine_for(database_url)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, database_url], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ApplyInProgress), apply_lock(engine):
            pass
    finally:
        holder.kill()
        holder.wait()
    with apply_lock(engine):  # the holder's connection (or file lock) went with it
        pass
