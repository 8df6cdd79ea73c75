"""Rebuild one day of the sales mart; the day comes from the scheduler as --run_date."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "run_date", "region_filter"])
glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

run_date = args["run_date"].strip()
MART = "analytics.sales_daily"
SOURCES = ("pos_sales", "web_sales")


def day_filter(column, day):
    return f"{column} = DATE '{day}'"


for source in SOURCES:
    # constant table names: nothing from outside reaches these statements
    spark.sql(f"REFRESH TABLE raw.{source}")

spark.sql(f"ALTER TABLE {MART} DROP IF EXISTS PARTITION (sale_date = '{run_date}')")
daily = spark.sql(
    "SELECT store_id, SUM(amount) AS revenue FROM raw.pos_sales WHERE "
    + day_filter("sale_date", run_date)
    + " GROUP BY store_id"
)
regional = spark.sql("SELECT * FROM raw.web_sales WHERE region = '%s'" % args.get("region_filter"))
daily.unionByName(regional.select("store_id", "revenue")).write.mode("append").insertInto(MART)
job.commit()
