"""Clickstream and sessions from the raw zone; one helper reads every source with its own bookmark context."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "target_path"])
glue_context = GlueContext(SparkContext.getOrCreate())
job = Job(glue_context)
job.init(args["JOB_NAME"], args)


def read_raw(table):
    """Read one raw table; the table name is its bookmark context."""
    frame = glue_context.create_dynamic_frame.from_catalog(
        database="web_raw",
        table_name=table,
        transformation_ctx=f"raw_{table}",
    )
    return frame.toDF()


clicks = read_raw("clicks")
sessions = read_raw("sessions")

joined = clicks.join(sessions, "session_id", "left").withColumn("event_date", F.to_date("ts"))
joined.write.mode("append").partitionBy("event_date").parquet(args["target_path"])
job.commit()
