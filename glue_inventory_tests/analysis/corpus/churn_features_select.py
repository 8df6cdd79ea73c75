"""Feature table for the churn model: every derived column built as an expression, added in one select."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "target_path"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

METRICS = ["logins", "sessions", "minutes", "exports", "invites", "api_calls", "errors", "tickets"]

usage = glueContext.create_dynamic_frame.from_catalog(
    database="product", table_name="daily_usage", transformation_ctx="usage"
).toDF()

derived = []
for metric in METRICS:
    week, month = F.col(metric) * 7, F.col(metric) * 30
    derived += [week.alias(f"{metric}_7d"), month.alias(f"{metric}_30d"), (week / month).alias(f"{metric}_ratio")]

features = usage.select("*", *derived)
features.write.mode("overwrite").parquet(args["target_path"])
job.commit()
