"""Run the warehouse's nightly stored procedure through the JDBC driver bundled with Glue."""

import sys

import boto3
from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["secret_id", "jdbc_url"])

sc = SparkContext.getOrCreate()
glue_context = GlueContext(sc)
logger = glue_context.get_logger()

credentials = boto3.client("secretsmanager").get_secret_value(SecretId=args["secret_id"])["SecretString"]
user, _, password = credentials.partition(":")

driver_manager = sc._gateway.jvm.java.sql.DriverManager
connection = driver_manager.getConnection(args["jdbc_url"], user, password)
try:
    statement = connection.prepareCall("{call marts.refresh_all()}")
    statement.execute()
    logger.info("marts refreshed")
finally:
    connection.close()
