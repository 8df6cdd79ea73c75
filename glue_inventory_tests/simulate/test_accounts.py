"""Simulators of several accounts in one process keep their own S3 objects."""

from datetime import UTC, datetime

import boto3
from botocore.config import Config

from glue_inventory.simulate import build_fleet, start_simulator

OTHER = "222233334444"


def test_restarting_another_accounts_simulator_leaves_these_objects_readable(simulator, sim_env):
    """moto's S3 reset closes every object it ever stored; a simulator started again for an account used
    before resets that account, and must not close the scripts (or CUR export) of one still running."""
    job = next(j for j in simulator.fleet.jobs if not j.profile.script_missing)
    bucket, key = job.script_location.removeprefix("s3://").split("/", 1)
    s3 = boto3.client("s3", config=Config(retries={"max_attempts": 1}))
    for _ in range(2):
        with start_simulator(build_fleet(3, 1, datetime.now(UTC), account_id=OTHER)) as other:
            other.write_cur_export()
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode() == job.script.text
