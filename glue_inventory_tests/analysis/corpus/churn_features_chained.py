"""Feature table for the churn model: one derived column per statement, grown over two years."""

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

usage = glueContext.create_dynamic_frame.from_catalog(
    database="product", table_name="daily_usage", transformation_ctx="usage"
).toDF()

features = usage
features = features.withColumn("logins_7d", F.col("logins") * 7)
features = features.withColumn("logins_30d", F.col("logins") * 30)
features = features.withColumn("logins_ratio", F.col("logins_7d") / F.col("logins_30d"))
features = features.withColumn("sessions_7d", F.col("sessions") * 7)
features = features.withColumn("sessions_30d", F.col("sessions") * 30)
features = features.withColumn("sessions_ratio", F.col("sessions_7d") / F.col("sessions_30d"))
features = features.withColumn("minutes_7d", F.col("minutes") * 7)
features = features.withColumn("minutes_30d", F.col("minutes") * 30)
features = features.withColumn("minutes_ratio", F.col("minutes_7d") / F.col("minutes_30d"))
features = features.withColumn("exports_7d", F.col("exports") * 7)
features = features.withColumn("exports_30d", F.col("exports") * 30)
features = features.withColumn("exports_ratio", F.col("exports_7d") / F.col("exports_30d"))
features = features.withColumn("invites_7d", F.col("invites") * 7)
features = features.withColumn("invites_30d", F.col("invites") * 30)
features = features.withColumn("invites_ratio", F.col("invites_7d") / F.col("invites_30d"))
features = features.withColumn("api_calls_7d", F.col("api_calls") * 7)
features = features.withColumn("api_calls_30d", F.col("api_calls") * 30)
features = features.withColumn("api_calls_ratio", F.col("api_calls_7d") / F.col("api_calls_30d"))
features = features.withColumn("errors_7d", F.col("errors") * 7)
features = features.withColumn("errors_30d", F.col("errors") * 30)
features = features.withColumn("errors_ratio", F.col("errors_7d") / F.col("errors_30d"))
features = features.withColumn("tickets_7d", F.col("tickets") * 7)
features = features.withColumn("tickets_30d", F.col("tickets") * 30)
features = features.withColumn("tickets_ratio", F.col("tickets_7d") / F.col("tickets_30d"))

features.write.mode("overwrite").parquet(args["target_path"])
job.commit()
