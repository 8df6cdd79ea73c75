"""Monthly finance export: partitioned CSV, the file count bounded by maxRecordsPerFile."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "export_path"])

glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

ledger = glueContext.create_dynamic_frame.from_catalog(
    database="finance", table_name="ledger_entries", transformation_ctx="ledger"
).toDF()

monthly = (
    ledger.withColumn("month", F.date_format("posted_at", "yyyy-MM"))
    .select("month", "account", "amount", "currency")
)
# The grand total is one row: one file of it is fine.
summary = monthly.agg(F.sum("amount").alias("total"), F.count("*").alias("entries")).coalesce(1)

monthly.write.mode("overwrite").option("maxRecordsPerFile", 500000).partitionBy("month").csv(args["export_path"])
summary.write.mode("overwrite").json(args["export_path"] + "/_summary/")
job.commit()
