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

# Script generated for node AWS Glue Data Catalog
AWSGlueDataCatalog_node1702900605384 = glueContext.create_dynamic_frame.from_catalog(database="sales", table_name="orders_raw", transformation_ctx="AWSGlueDataCatalog_node1702900605384")

# Script generated for node Change Schema
ChangeSchema_node1702900612001 = ApplyMapping.apply(frame=AWSGlueDataCatalog_node1702900605384, mappings=[("order_id", "string", "order_id", "string"), ("amount", "string", "amount", "double")], transformation_ctx="ChangeSchema_node1702900612001")

# Script generated for node AWS Glue Data Catalog
# AWSGlueDataCatalog_node1754581730986 = glueContext.write_dynamic_frame.from_catalog(frame=ChangeSchema_node1702900612001, database="sales", table_name="orders", transformation_ctx="AWSGlueDataCatalog_node1754581730986")
AWSGlueDataCatalog_node1702900629000 = glueContext.write_dynamic_frame.from_catalog(frame=ChangeSchema_node1702900612001, database="sales", table_name="orders", transformation_ctx="AWSGlueDataCatalog_node1745604963572")

job.commit()
