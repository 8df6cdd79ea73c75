"""Send a welcome e-mail to every customer created yesterday (the list comes from the lake)."""

import sys

import boto3
from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["sender"])
glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session
ses = boto3.client("ses")

customers = spark.table("crm.customers").where(F.col("created_date") == F.date_sub(F.current_date(), 1))
recipients = customers.select("email", "first_name")

# every row comes back to the driver
for row in recipients.collect():
    ses.send_email(
        Source=args["sender"],
        Destination={"ToAddresses": [row.email]},
        Message={"Subject": {"Data": "Welcome"}, "Body": {"Text": {"Data": f"Hello {row.first_name}"}}},
    )
