"""Daily device telemetry rollup. The job was created in the console with bookmarks enabled."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "source_path", "jdbc_url", "target_path"])

sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

telemetry = spark.read.option("mergeSchema", "true").parquet(args["source_path"])

device_reader = (
    spark.read.format("jdbc")
    .option("url", args["jdbc_url"])
    .option("dbtable", "inventory.devices")
)
devices = device_reader.load()

rollup = (
    telemetry.join(devices, "device_id")
    .groupBy("device_id", F.to_date("ts").alias("day"))
    .agg(F.avg("temperature").alias("avg_temperature"), F.max("temperature").alias("max_temperature"))
)
rollup.write.mode("append").partitionBy("day").parquet(args["target_path"])
job.commit()
