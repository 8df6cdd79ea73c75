"""Rebuild one day of the sales mart; --run_date is parsed as a date before it reaches any SQL."""

import sys
from datetime import date

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "run_date"])
glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

run_date = date.fromisoformat(args["run_date"])
MART = "analytics.sales_daily"

spark.sql(f"ALTER TABLE {MART} DROP IF EXISTS PARTITION (sale_date = '{run_date.isoformat()}')")
daily = (
    spark.table("raw.pos_sales")
    .where(F.col("sale_date") == F.lit(run_date))
    .groupBy("store_id")
    .agg(F.sum("amount").alias("revenue"))
)
daily.write.mode("append").insertInto(MART)
job.commit()
