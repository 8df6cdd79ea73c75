"""Normalise a wide CRM extract: trim every string column and cast the numeric ones."""

import sys
from functools import reduce

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "target_path"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

NUMERIC = ["revenue", "employees", "open_deals", "won_deals", "lost_deals"]

accounts = glueContext.create_dynamic_frame.from_catalog(
    database="crm", table_name="accounts_extract", transformation_ctx="accounts"
).toDF()

# 180 string columns in this extract: trim them one by one
for name, kind in accounts.dtypes:
    if kind == "string":
        accounts = accounts.withColumn(name, F.trim(F.col(name)))

typed = reduce(lambda frame, column: frame.withColumn(column, F.col(column).cast("double")), NUMERIC, accounts)

typed.write.mode("overwrite").parquet(args["target_path"])
job.commit()
