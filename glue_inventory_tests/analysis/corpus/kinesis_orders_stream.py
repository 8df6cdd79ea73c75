"""Streaming orders from Kinesis into the lake, one micro-batch every minute."""

import sys

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "target_path", "checkpoint_path"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
logger = glueContext.get_logger()

stream = glueContext.create_data_frame.from_catalog(
    database="streaming",
    table_name="orders_kinesis",
    additional_options={"startingPosition": "TRIM_HORIZON", "inferSchema": "true"},
    transformation_ctx="stream",
)


def process_batch(data_frame, batch_id):
    # Glue Studio's generated check for an empty batch
    if data_frame.count() > 0:
        enriched = data_frame.withColumn("ingest_date", F.current_date())
        for row in enriched.collect():
            logger.info(f"batch {batch_id}: order {row.order_id}")
        out = DynamicFrame.fromDF(enriched, glueContext, "out")
        glueContext.write_dynamic_frame.from_options(
            frame=out,
            connection_type="s3",
            connection_options={"path": args["target_path"], "partitionKeys": ["ingest_date"]},
            format="parquet",
        )


glueContext.forEachBatch(
    frame=stream,
    batch_function=process_batch,
    options={"windowSize": "60 seconds", "checkpointLocation": args["checkpoint_path"]},
)
job.commit()
