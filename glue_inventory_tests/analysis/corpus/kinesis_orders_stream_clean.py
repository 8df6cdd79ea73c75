"""Streaming orders from Kinesis into the lake, one micro-batch every minute; each batch stays in Spark."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "target_path", "checkpoint_path"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

stream = glueContext.create_data_frame.from_catalog(
    database="streaming",
    table_name="orders_kinesis",
    additional_options={"startingPosition": "TRIM_HORIZON", "inferSchema": "true"},
    transformation_ctx="stream",
)


def process_batch(data_frame, batch_id):
    if not data_frame.isEmpty():
        enriched = data_frame.withColumn("ingest_date", F.current_date()).withColumn("batch_id", F.lit(batch_id))
        enriched.write.mode("append").partitionBy("ingest_date").parquet(args["target_path"])


glueContext.forEachBatch(
    frame=stream,
    batch_function=process_batch,
    options={"windowSize": "60 seconds", "checkpointLocation": args["checkpoint_path"]},
)
job.commit()
