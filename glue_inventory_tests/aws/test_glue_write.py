"""The JobUpdate apply_remediation sends: the whole definition kept, only the plan's change made (moto's Glue)."""

import boto3
from moto import mock_aws

from glue_inventory.aws.glue_write import job_update


@mock_aws
def test_added_arguments_join_the_definition_and_keep_the_others():
    glue = boto3.client("glue", region_name="us-east-1")
    glue.create_job(Name="orders", Role="arn:aws:iam::123456789012:role/glue", GlueVersion="4.0",
                    Command={"Name": "glueetl", "ScriptLocation": "s3://b/orders.py"}, WorkerType="G.2X",
                    NumberOfWorkers=20, DefaultArguments={"--TempDir": "s3://b/tmp/", "--db_password": "x"})
    live = glue.get_job(JobName="orders")["Job"]
    added = {"--enable-metrics": "true", "--enable-observability-metrics": "true"}
    update = job_update(glue, live, {}, remove_arguments=["--db_password"], add_arguments=added)
    assert update["DefaultArguments"] == {"--TempDir": "s3://b/tmp/", **added}
    assert (update["WorkerType"], update["NumberOfWorkers"], update["GlueVersion"]) == ("G.2X", 20, "4.0")
    assert "MaxCapacity" not in update and "Name" not in update  # refused beside WorkerType; not a JobUpdate field
