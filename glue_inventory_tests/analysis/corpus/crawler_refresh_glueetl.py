"""Refresh the lake's partitions after the nightly loads: start the crawlers, then repair the Athena views.

Created as a Spark job because the team only knew that template.
"""

import sys
import time

import boto3
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "crawlers", "athena_output"])

glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

glue = boto3.client("glue")
athena = boto3.client("athena")

for crawler in args["crawlers"].split(","):
    glue.start_crawler(Name=crawler)

pending = set(args["crawlers"].split(","))
while pending:
    time.sleep(30)
    states = {name: glue.get_crawler(Name=name)["Crawler"]["State"] for name in pending}
    pending = {name for name, state in states.items() if state != "READY"}

for view in ("daily_sales_v", "customer_360_v"):
    athena.start_query_execution(
        QueryString=f"MSCK REPAIR TABLE analytics.{view}",
        ResultConfiguration={"OutputLocation": args["athena_output"]},
    )
job.commit()
