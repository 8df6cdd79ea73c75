"""Customer dimension build; old experiments are still in the file as comments."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

args = getResolvedOptions(sys.argv, ["JOB_NAME", "target_path"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

customers = glueContext.create_dynamic_frame.from_catalog(
    database="crm", table_name="customers", transformation_ctx="customers"
).toDF()

# rows = customers.collect()
# for row in rows:
#     print(row)
# customers.coalesce(1).write.csv(args["target_path"] + "/debug/")
# for c in customers.columns:
#     customers = customers.withColumn(c, F.upper(c))
# spark.sql(f"DELETE FROM dim.customers WHERE day = '{args['run_date']}'")

dimension = customers.select(
    "customer_id", F.initcap("name").alias("name"), F.lower("email").alias("email"), "country"
)
dimension.write.mode("overwrite").parquet(args["target_path"])
job.commit()
