import sys
from awsglue.transforms import *
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from awsglue.context import GlueContext
from awsglue.job import Job

args = getResolvedOptions(sys.argv, ["JOB_NAME"])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

# Script generated for node Amazon S3
AmazonS3_node1 = glueContext.create_dynamic_frame.from_options(
    format_options={"multiline": False},
    connection_type="s3",
    format="json",
    connection_options={"paths": ["s3://landing-zone/returns/"], "recurse": True},
    transformation_ctx="AmazonS3_node1",
)

# Script generated for node Drop Fields
DropFields_node2 = DropFields.apply(frame=AmazonS3_node1, paths=["raw_payload"], transformation_ctx="DropFields_node2")

# Edited by hand after the node was renamed in the visual editor
AmazonS3_node3 = glueContext.write_dynamic_frame.from_options(
    frame=DropFields_node_2,
    connection_type="s3",
    format="glueparquet",
    connection_options={"path": "s3://curated-zone/returns/", "partitionKeys": []},
    transformation_ctx="AmazonS3_node3",
)

job.commit()
