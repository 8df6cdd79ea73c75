"""Partner extracts written in parallel; the partners' importers read whole prefixes."""

import sys

from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "bucket"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)


def write_csv(frame, path):
    frame.write.mode("overwrite").option("header", "true").csv(path)


def write_dynamic(frame, path, fmt):
    glueContext.write_dynamic_frame.from_options(
        frame=frame, connection_type="s3", connection_options={"path": path}, format=fmt
    )


products = glueContext.create_dynamic_frame.from_catalog(
    database="catalog", table_name="products", transformation_ctx="products"
).toDF()
prices = glueContext.create_dynamic_frame.from_catalog(
    database="catalog", table_name="prices", transformation_ctx="prices"
).toDF()

write_csv(products.select("sku", "title"), f"s3://{args['bucket']}/acme/products/")

priced = products.join(prices, "sku")
frame = DynamicFrame.fromDF(priced.coalesce(16), glueContext, "frame")
write_dynamic(frame, f"s3://{args['bucket']}/globex/prices/", "json")
job.commit()
