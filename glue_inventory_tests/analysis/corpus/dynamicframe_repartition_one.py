"""Reference data snapshot for the mainframe loader, which accepts a single fixed-width file."""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import SelectFields
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "target_path"])

glue_context = GlueContext(SparkContext.getOrCreate())
job = Job(glue_context)
job.init(args["JOB_NAME"], args)

branches = glue_context.create_dynamic_frame.from_catalog(
    database="reference", table_name="branches", transformation_ctx="branches"
)
selected = SelectFields.apply(frame=branches, paths=["branch_id", "name", "region"])
one_part = selected.repartition(1)

glue_context.write_dynamic_frame.from_options(
    frame=one_part,
    connection_type="s3",
    connection_options={"path": args["target_path"]},
    format="csv",
    format_options={"writeHeader": False},
)
job.commit()
