"""Daily device telemetry rollup, read through DynamicFrames so the job bookmark sees each source."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "source_path", "target_path"])

sc = SparkContext()
glueContext = GlueContext(sc)
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

telemetry = glueContext.create_dynamic_frame.from_options(
    connection_type="s3",
    connection_options={"paths": [args["source_path"]], "recurse": True},
    format="parquet",
    transformation_ctx="telemetry",
).toDF()
devices = glueContext.create_dynamic_frame.from_catalog(
    database="inventory", table_name="devices", transformation_ctx="devices"
).toDF()

rollup = (
    telemetry.join(devices, "device_id")
    .groupBy("device_id", F.to_date("ts").alias("day"))
    .agg(F.avg("temperature").alias("avg_temperature"), F.max("temperature").alias("max_temperature"))
)
rollup.write.mode("append").partitionBy("day").parquet(args["target_path"])
job.commit()
