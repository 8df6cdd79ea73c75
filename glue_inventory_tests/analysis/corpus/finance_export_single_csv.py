"""Monthly finance export: one CSV file per run for the accounting team's SFTP pickup."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "export_path"])

glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

ledger = glueContext.create_dynamic_frame.from_catalog(
    database="finance", table_name="ledger_entries", transformation_ctx="ledger"
).toDF()

# Accounting wants exactly one file.
single = ledger.repartition(1)

monthly = (
    single.withColumn("month", F.date_format("posted_at", "yyyy-MM"))
    .select("month", "account", "amount", "currency")
    # keep the export sorted inside the single file
    .sortWithinPartitions("month", "account")
)

# ... ten lines later the write happens
monthly.write.mode("overwrite").option("header", "true").csv(args["export_path"])
job.commit()
