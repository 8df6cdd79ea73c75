"""Partner feed import; converted from a notebook, so the Job boilerplate never made it in."""

import sys

from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["target_path"])

glue_context = GlueContext(SparkContext.getOrCreate())

feed = glue_context.create_dynamic_frame.from_options(
    connection_type="s3",
    connection_options={"paths": ["s3://partner-drop/feeds/"]},
    format="csv",
    format_options={"withHeader": True},
    transformation_ctx="partner_feed",
)
glue_context.write_dynamic_frame.from_options(
    frame=feed,
    connection_type="s3",
    connection_options={"path": args["target_path"]},
    format="parquet",
)
