"""Daily revenue by country with Spark SQL: constant queries, values passed as parameters."""

import sys
from datetime import date, timedelta

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F
from pyspark.sql.window import Window

args = getResolvedOptions(sys.argv, ["JOB_NAME", "run_date", "output_path"])

sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

run_date = date.fromisoformat(args["run_date"])
window_start = run_date - timedelta(days=7)

DAILY_REVENUE = """
    SELECT o.country, o.order_date, SUM(o.amount) AS revenue, COUNT(*) AS orders
    FROM sales.orders o
    WHERE o.order_date BETWEEN :window_start AND :run_date
    GROUP BY o.country, o.order_date
"""
revenue = spark.sql(DAILY_REVENUE, args={"window_start": window_start, "run_date": run_date})
revenue.persist()

ranked = revenue.withColumn(
    "rank", F.dense_rank().over(Window.partitionBy("order_date").orderBy(F.desc("revenue")))
)
latest = spark.sql("SELECT MAX(order_date) AS latest FROM sales.orders").collect()[0]["latest"]
print(f"latest order date in the source: {latest}")

top = ranked.filter(F.col("rank") <= 10).select("country", "order_date", "revenue", "orders")
preview = top.orderBy(F.desc("revenue")).limit(20).collect()
for row in preview:
    print(row.country, row.order_date, row.revenue)

(
    top.write.mode("overwrite")
    .partitionBy("order_date")
    .option("maxRecordsPerFile", 500000)
    .parquet(args["output_path"])
)
revenue.unpersist()

job.commit()
