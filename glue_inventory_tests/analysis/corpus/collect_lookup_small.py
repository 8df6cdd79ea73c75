"""Send yesterday's signup count and the ten newest customers to the growth channel."""

import sys

import boto3
from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["topic_arn"])
glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session

customers = spark.table("crm.customers").where(F.col("created_date") == F.date_sub(F.current_date(), 1))
total = customers.agg(F.count("*").alias("n")).collect()[0]["n"]
newest = customers.orderBy(F.desc("created_at")).limit(10).select("email").collect()

boto3.client("sns").publish(
    TopicArn=args["topic_arn"],
    Subject="Signups yesterday",
    Message=f"{total} signups; newest: {', '.join(row.email for row in newest)}",
)
