"""Copies a Postgres table through a Glue connection (credentials stay in the connection)."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "connection_name", "table", "target_path"])

glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

customers = glueContext.create_dynamic_frame.from_options(
    connection_type="postgresql",
    connection_options={
        "useConnectionProperties": "true",
        "connectionName": args["connection_name"],
        "dbtable": args["table"],
    },
    transformation_ctx="customers",
)

df = customers.toDF().dropDuplicates(["customer_id"])
df = df.withColumn("email_domain", F.substring_index(F.col("email"), "@", -1))
stats = df.agg(F.count("*").alias("rows"), F.max("updated_at").alias("latest")).collect()[0]
print(f"copying {stats['rows']} customers, latest change {stats['latest']}")

df.write.mode("overwrite").format("parquet").save(args["target_path"])

job.commit()
