"""Copy new rows of the billing database to the lake (bookmark keyed on invoice_id)."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "connection_url", "target_path"])
glueContext = GlueContext(SparkContext.getOrCreate())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

invoices = glueContext.create_dynamic_frame_from_options(
    "postgresql",
    {
        "url": args["connection_url"],
        "dbtable": "billing.invoices",
        "jobBookmarkKeys": ["invoice_id"],
        "jobBookmarkKeysSortOrder": "asc",
    },
    transformation_ctx="invoices_src",
)
glueContext.write_dynamic_frame_from_options(
    frame=invoices,
    connection_type="s3",
    connection_options={"path": args["target_path"]},
    format="parquet",
)
job.commit()
