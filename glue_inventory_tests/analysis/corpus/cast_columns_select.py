"""Normalise a wide CRM extract in one projection: trim string columns and cast the numeric ones."""

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

NUMERIC = {"revenue", "employees", "open_deals", "won_deals", "lost_deals"}

accounts = glueContext.create_dynamic_frame.from_catalog(
    database="crm", table_name="accounts_extract", transformation_ctx="accounts"
).toDF()


def normalised(name, kind):
    if name in NUMERIC:
        return F.col(name).cast("double").alias(name)
    if kind == "string":
        return F.trim(F.col(name)).alias(name)
    return F.col(name)


typed = accounts.select([normalised(name, kind) for name, kind in accounts.dtypes])
typed = (
    typed.withColumn("ingested_at", F.current_timestamp())
    .withColumn("source", F.lit("crm"))
    .withColumn("revenue_band", F.when(F.col("revenue") > 1e6, "large").otherwise("small"))
)
typed.write.mode("overwrite").parquet(args["target_path"])
job.commit()
