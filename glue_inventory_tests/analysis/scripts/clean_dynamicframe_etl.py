"""Nightly orders ETL: raw JSON in the Data Catalog to partitioned Parquet."""

import sys

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.transforms import ApplyMapping, DropNullFields, ResolveChoice
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "source_database", "source_table", "target_path"])

sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
logger = glueContext.get_logger()
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

orders = glueContext.create_dynamic_frame.from_catalog(
    database=args["source_database"],
    table_name=args["source_table"],
    transformation_ctx="orders",
)
logger.info(f"read {orders.count()} orders from {args['source_table']}")

mapped = ApplyMapping.apply(
    frame=orders,
    mappings=[
        ("order_id", "string", "order_id", "string"),
        ("customer_id", "string", "customer_id", "string"),
        ("amount", "double", "amount", "decimal(12,2)"),
        ("created_at", "string", "created_at", "timestamp"),
    ],
    transformation_ctx="mapped",
)
resolved = ResolveChoice.apply(frame=mapped, choice="make_struct", transformation_ctx="resolved")
cleaned = DropNullFields.apply(frame=resolved, transformation_ctx="cleaned")

df = cleaned.toDF()
df = (
    df.withColumn("order_date", F.to_date("created_at"))
    .withColumn("customer_id", F.lower(F.trim(F.col("customer_id"))))
    .filter(F.col("amount") > 0)
)

output = DynamicFrame.fromDF(df, glueContext, "output")
glueContext.write_dynamic_frame.from_options(
    frame=output,
    connection_type="s3",
    connection_options={"path": args["target_path"], "partitionKeys": ["order_date"]},
    format="parquet",
    transformation_ctx="sink",
)

job.commit()
